// memory.latency: load-to-use latency of main memory, from a randomized
// pointer chase (meters/memory/pointer_chase.h) over a buffer far larger than the
// last-level cache (default 8x it, at least 256 MiB), on one pinned CPU.
// The buffer is advised for transparent huge pages and the conditions say
// how much of it the kernel really backed with them (with 4 KiB pages the
// figure includes page-walk time). Reported: the fastest 1 ms run (the
// latency with the least interference) and the median run.
//
// Threading: Measure() runs the chase on one pinned thread and joins it.
#pragma once

#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"

namespace resmeter {

class MemoryLatencyMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;
};

// The options of memory.latency, for its registry row.
std::vector<OptionSpec> MemoryLatencyOptions();

}  // namespace resmeter
