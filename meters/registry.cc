// The one table of meters. Keep rows in report order.
#include "meters/registry.h"

#include "meters/net_latency.h"
#include "meters/net_throughput.h"

namespace resmeter {

const std::vector<MeterInfo>& MeterRegistry() {
  static const std::vector<MeterInfo> kMeters = {
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
