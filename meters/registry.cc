// The one table of meters. Keep rows in report order.
#include "meters/registry.h"

namespace resmeter {

const std::vector<MeterInfo>& MeterRegistry() {
  static const std::vector<MeterInfo> kMeters = {
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
