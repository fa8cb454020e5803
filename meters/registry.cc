// The one table of meters. Keep rows in report order.
#include "meters/registry.h"

#include "meters/cpu_availability_meter.h"
#include "meters/cpu_frequency_meter.h"
#include "meters/cpu_throttling_meter.h"

namespace resmeter {

const std::vector<MeterInfo>& MeterRegistry() {
  static const std::vector<MeterInfo> kMeters = {
      {"cpu.frequency", MeterKind::kHeavy, 30, true, "per-core effective frequency (PMU or calibrated chain) vs nominal",
       CpuFrequencyOptions(), [] { return std::make_unique<CpuFrequencyMeter>(); }},
      {"cpu.throttling", MeterKind::kHeavy, 60, true, "all cores loaded for a window: burst vs sustained frequency, trend",
       CpuThrottlingOptions(), [] { return std::make_unique<CpuThrottlingMeter>(); }},
      {"cpu.availability", MeterKind::kHeavy, 60, true, "fraction of wall time each vCPU really ran a challenge",
       CpuAvailabilityOptions(), [] { return std::make_unique<CpuAvailabilityMeter>(); }},
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
