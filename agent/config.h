// The agent's view of config/config.h: the same functions with the meters of
// the registry as the configurable ones (`meters.<name>.<key>`).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "meters/registry/registry.h"

namespace resmeter {

// The registry's rows as the config sees them (built once).
const ConfigurableMeters& RegisteredConfigurableMeters();
// The keys of one registered meter: enabled, timeout_seconds, then its own.
std::vector<OptionSpec> MeterSchema(const MeterInfo& info);

inline Config DefaultConfig() { return DefaultConfig(RegisteredConfigurableMeters()); }
inline Result<Config> ParseConfig(const std::string& yaml_text, const std::string& source) {
  return ParseConfig(yaml_text, source, RegisteredConfigurableMeters());
}
inline Result<Config> LoadConfigFile(const std::string& path) {
  return LoadConfigFile(path, RegisteredConfigurableMeters());
}
inline Status ApplyConfigOverride(Config& config, const std::string& assignment) {
  return ApplyConfigOverride(config, assignment, RegisteredConfigurableMeters());
}
inline Status SetConfigValue(Config& config, const std::string& key, const std::string& yaml_value,
                             const std::string& origin) {
  return SetConfigValue(config, key, yaml_value, origin, RegisteredConfigurableMeters());
}

}  // namespace resmeter
