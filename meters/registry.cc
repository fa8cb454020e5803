// The one table of meters. Keep rows in report order.
#include "meters/registry.h"

#include "meters/cache_hierarchy_meter.h"
#include "meters/cpu_availability_meter.h"
#include "meters/cpu_frequency_meter.h"
#include "meters/cpu_throttling_meter.h"
#include "meters/cpu_time.h"
#include "meters/cpu_topology.h"
#include "meters/memory_bandwidth_meter.h"
#include "meters/memory_capacity.h"
#include "meters/memory_latency_meter.h"
#include "meters/net_latency.h"
#include "meters/net_throughput.h"

namespace resmeter {

const std::vector<MeterInfo>& MeterRegistry() {
  static const std::vector<MeterInfo> kMeters = {
      {"cpu.topology", MeterKind::kLight, 10, true, "packages, cores, threads, NUMA nodes and caches (hwloc), cross-checked with sysfs and /proc/cpuinfo", {}, [] { return std::make_unique<CpuTopologyMeter>(); }},
      {"cpu.time", MeterKind::kLight, 10, true, "per-CPU and total CPU seconds by state, delivered vCPU-seconds and steal ratio over a window (/proc/stat)", {{"window_seconds", OptionType::kDouble, 1.0, 0.05, 60.0, {}, "sampling window in seconds; keep below the meter's timeout_seconds"}}, [] { return std::make_unique<CpuTimeMeter>(); }},
      {"cpu.frequency", MeterKind::kHeavy, 30, true, "per-core effective frequency (PMU or calibrated chain) vs nominal",
       CpuFrequencyOptions(), [] { return std::make_unique<CpuFrequencyMeter>(); }},
      {"cpu.throttling", MeterKind::kHeavy, 60, true, "all cores loaded for a window: burst vs sustained frequency, trend",
       CpuThrottlingOptions(), [] { return std::make_unique<CpuThrottlingMeter>(); }},
      {"cpu.availability", MeterKind::kHeavy, 60, true, "fraction of wall time each vCPU really ran a challenge",
       CpuAvailabilityOptions(), [] { return std::make_unique<CpuAvailabilityMeter>(); }},
      {"cache.hierarchy", MeterKind::kHeavy, 60, true, "cache levels from a pointer-chase latency curve vs reported sizes",
       CacheHierarchyOptions(), [] { return std::make_unique<CacheHierarchyMeter>(); }},
      {"memory.bandwidth", MeterKind::kHeavy, 60, true, "STREAM copy/scale/add/triad, one pinned thread per CPU",
       MemoryBandwidthOptions(), [] { return std::make_unique<MemoryBandwidthMeter>(); }},
      {"memory.latency", MeterKind::kHeavy, 60, true, "main-memory latency from a pointer chase far beyond the LLC",
       MemoryLatencyOptions(), [] { return std::make_unique<MemoryLatencyMeter>(); }},
      {"memory.capacity", MeterKind::kLight, 10, true, "MemTotal/MemAvailable, huge pages and NUMA memory, cross-checked across /proc, sysfs and hwloc", {{"mismatch_tolerance_ratio", OptionType::kDouble, 0.05, 0.0, 1.0, {}, "largest relative difference of memory totals across sources before a finding"}}, [] { return std::make_unique<MemoryCapacityMeter>(); }},
      {"net.throughput", MeterKind::kHeavy, 90, true, "TCP throughput to resmeter peers, co-signed by them",
       NetThroughputMeter::OptionSpecs(), [] { return std::make_unique<NetThroughputMeter>(); }},
      {"net.latency", MeterKind::kHeavy, 30, true, "TCP round-trip time to resmeter peers, co-signed by them",
       NetLatencyMeter::OptionSpecs(), [] { return std::make_unique<NetLatencyMeter>(); }},
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
