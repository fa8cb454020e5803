// The one table of meters. Keep rows in report order.
#include "meters/registry.h"

#include "meters/cpu_time.h"
#include "meters/cpu_topology.h"
#include "meters/memory_capacity.h"

namespace resmeter {

const std::vector<MeterInfo>& MeterRegistry() {
  static const std::vector<MeterInfo> kMeters = {
      {"cpu.topology", MeterKind::kLight, 10, true, "packages, cores, threads, NUMA nodes and caches (hwloc), cross-checked with sysfs and /proc/cpuinfo", {}, [] { return std::make_unique<CpuTopologyMeter>(); }},
      {"cpu.time", MeterKind::kLight, 10, true, "per-CPU and total CPU seconds by state, delivered vCPU-seconds and steal ratio over a window (/proc/stat)", {{"window_seconds", OptionType::kDouble, 1.0, 0.05, 60.0, {}, "sampling window in seconds; keep below the meter's timeout_seconds"}}, [] { return std::make_unique<CpuTimeMeter>(); }},
      {"memory.capacity", MeterKind::kLight, 10, true, "MemTotal/MemAvailable, huge pages and NUMA memory, cross-checked across /proc, sysfs and hwloc", {{"mismatch_tolerance_ratio", OptionType::kDouble, 0.05, 0.0, 1.0, {}, "largest relative difference of memory totals across sources before a finding"}}, [] { return std::make_unique<MemoryCapacityMeter>(); }},
  };
  return kMeters;
}

const MeterInfo* FindMeter(const std::string& name) {
  for (const auto& m : MeterRegistry()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace resmeter
