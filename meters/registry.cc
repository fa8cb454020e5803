// The one table of meters. Keep rows in report order.
#include "meters/registry.h"

#include "meters/cache_hierarchy_meter.h"
#include "meters/cpu_availability_meter.h"
#include "meters/cpu_frequency_meter.h"
#include "meters/cpu_throttling_meter.h"
#include "meters/memory_bandwidth_meter.h"
#include "meters/memory_latency_meter.h"

namespace resmeter {

const std::vector<MeterInfo>& MeterRegistry() {
  static const std::vector<MeterInfo> kMeters = {
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
