// cpu.frequency: the effective clock of every core, measured, next to the
// nominal clock the platform claims.
//
// Method: when a PMU is usable (perf_event_open of the cycles event encoded
// by libpfm4, checked at runtime by DetectPmu), chunk rates are counted
// cycles per second of CLOCK_MONOTONIC_RAW; otherwise (most VMs) they are
// ops per second of the calibrated dependent-add chain (meters/cpu/cpu_work.h),
// whose cost is one cycle per op. The thread is pinned to each allowed CPU in
// turn for `sample_seconds` (single-core burst), then all CPUs run at once
// for `all_core_seconds`. Each figure is the typical chunk rate of its
// window (TypicalRate, meters/cpu/cpu_work.h: the middle of the densest 2 % band
// of chunk rates), so preempted chunks cannot lower it and the few fast
// outliers that made the fastest chunk read 5 % high cannot raise it;
// bench/compare_all checks it against an imul chain timed in the same run. Where the TSC is
// invariant its rate over the same windows is reported as a cross-check.
//
// Threading: Measure() starts one pinned thread per CPU and joins them.
#pragma once

#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"

namespace resmeter {

class CycleCounterSource;

class CpuFrequencyMeter final : public Meter {
 public:
  // Uses the perf_event/libpfm4 counter source.
  CpuFrequencyMeter();
  // Uses an injected counter source (tests); null means "no PMU".
  explicit CpuFrequencyMeter(std::shared_ptr<CycleCounterSource> pmu) : pmu_(std::move(pmu)) {}
  MeterResult Measure(MeterContext& ctx) override;

 private:
  std::shared_ptr<CycleCounterSource> pmu_;
};

// The options of cpu.frequency, for its registry row.
std::vector<OptionSpec> CpuFrequencyOptions();

}  // namespace resmeter
