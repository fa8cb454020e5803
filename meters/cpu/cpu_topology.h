// cpu.topology (light): packages, cores, hardware threads (PUs), NUMA nodes
// and cache levels (size, line, ways, how many PUs share each cache) from
// hwloc, cross-checked against /sys/devices/system/cpu/online and the
// processor entries of /proc/cpuinfo. A disagreement is a finding
// ("cpu_count_mismatch"): the host may present different views.
//
// Thread-compatible: each Measure() call is independent.
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "meters/api/meter.h"

namespace resmeter {

// Parses a kernel CPU list such as "0-3,8,10-11" into sorted, unique CPU
// numbers. An empty (or whitespace) list is valid and empty. Corruption on a
// malformed range, naming the text.
Result<std::vector<int>> ParseCpuList(std::string_view text);

// Counts "processor : N" entries in /proc/cpuinfo text (x86, arm64 and most
// others); 0 when there are none.
int CountCpuinfoProcessors(std::string_view text);

class CpuTopologyMeter final : public Meter {
 public:
  // Loads hwloc from the context's roots and cross-checks the CPU counts.
  // unavailable when <sys-root>/devices/system/cpu is missing; failed when
  // hwloc cannot load.
  MeterResult Measure(MeterContext& ctx) override;
};

}  // namespace resmeter
