#include "agent/config.h"

namespace resmeter {
namespace {

ConfigurableMeter AsConfigurable(const MeterInfo& info) {
  return {info.name, info.enabled_by_default, info.default_timeout_seconds, info.options};
}

}  // namespace

const ConfigurableMeters& RegisteredConfigurableMeters() {
  static const ConfigurableMeters meters = [] {
    ConfigurableMeters out;
    for (const auto& info : MeterRegistry()) out.push_back(AsConfigurable(info));
    return out;
  }();
  return meters;
}

std::vector<OptionSpec> MeterSchema(const MeterInfo& info) { return MeterSchema(AsConfigurable(info)); }

}  // namespace resmeter
