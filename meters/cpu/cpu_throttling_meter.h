// cpu.throttling: loads every allowed CPU for a window (default 10 s) with
// the calibrated dependent-add chain (meters/cpu/cpu_work.h) and samples the
// all-core frequency through it, to catch clocks that start high and sag.
//
// Each CPU's thread runs consecutive sub-windows of `sample_seconds`; the
// frequency of a sub-window is its typical chunk rate (TypicalRate in
// meters/cpu/cpu_work.h: preempted chunks and the few fast outliers do not move
// it), and the all-core series is the mean across CPUs of each
// sub-window. Burst = the highest sample in the first second; sustained =
// the median of the second half; trend = least-squares slope over the window.
// The `throttled` finding fires when sustained < throttled_fraction x burst.
// Thermal-throttle counters (sysfs thermal_throttle/*_count) are read before
// and after where present.
//
// Threading: Measure() starts one pinned thread per CPU and joins them.
#pragma once

#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"

namespace resmeter {

class CpuThrottlingMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;
};

// The options of cpu.throttling, for its registry row.
std::vector<OptionSpec> CpuThrottlingOptions();

// Least-squares slope of y over x (0 with fewer than two distinct x).
double LinearSlope(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace resmeter
