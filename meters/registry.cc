// The one table of meters. Keep rows in report order.
#include "meters/registry.h"

#include "meters/time_meter.h"

namespace resmeter {

const std::vector<MeterInfo>& MeterRegistry() {
  static const std::vector<MeterInfo> kMeters = {
      {"time", MeterKind::kLight, 5.0, true,
       "time source: chronyd sync state, NTS, error bound, clock jumps",
       {{"chrony_socket", OptionType::kString, "/run/chrony/chronyd.sock", {}, {}, {}, "chronyd's command socket"},
        {"max_error_bound_seconds", OptionType::kDouble, 0.1, 1e-6, 3600, {},
         "trusted only when synced via NTS with an error bound below this"}},
       [] { return std::make_unique<TimeMeter>(); }},
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
