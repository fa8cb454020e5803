// memory.bandwidth: STREAM-style copy, scale, add and triad.
//
// One thread per allowed CPU, pinned; three arrays of doubles of at least
// 4x the last-level cache each (default; `array_bytes` overrides), split in
// contiguous per-thread slices that each thread first-touches. Every
// repetition runs the four kernels in order, all threads released together
// by a barrier; a kernel's time is from the earliest thread start to the
// latest thread end. The best (shortest) of `repetitions` counts, as in
// STREAM, and bytes are counted as STREAM counts them (copy and scale 16 B
// per element, add and triad 24 B; write-allocate traffic is not counted).
// The arrays are checked afterwards against the values the kernels must
// produce, so a result cannot come from elided work.
//
// Threading: Measure() starts one pinned thread per CPU and joins them.
#pragma once

#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"

namespace resmeter {

class MemoryBandwidthMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;
};

// The options of memory.bandwidth, for its registry row.
std::vector<OptionSpec> MemoryBandwidthOptions();

// Bytes STREAM counts per element for kernel 0..3 (copy, scale, add, triad).
inline constexpr double kStreamBytesPerElement[4] = {16, 16, 24, 24};
inline constexpr const char* kStreamKernelNames[4] = {"copy", "scale", "add", "triad"};

}  // namespace resmeter
