// Config: the validated configuration of resmeter.
//
// Loaded from YAML (configs/resmeter.yaml documents every key) with yaml-cpp
// and checked against typed OptionSpec tables: the global table in
// agent/config_schema.cc and each meter's options from the registry
// (meters.<name>.<key>, plus `enabled` and `timeout_seconds`). Unknown keys,
// wrong types and out-of-range values are errors naming the file, the line
// and the key. `--set KEY=VALUE` and command-line flags override the file.
// A Config is a plain value; copies are independent.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/option_spec.h"
#include "core/result.h"

namespace resmeter {

// What a config may say about one meter. The agent passes its registry's
// rows (agent/config.h); the buyer's resmeter-verify runs no meters and
// passes none, and then the `meters:` section is accepted unchecked and
// ignored, so it can read the agent's config file for the keys it shares.
struct ConfigurableMeter {
  std::string name;
  bool enabled_by_default = false;
  double default_timeout_seconds = 0;
  std::vector<OptionSpec> options;  // the meter's own keys under meters.<name>
};
using ConfigurableMeters = std::vector<ConfigurableMeter>;

struct Config {
  std::string source = "built-in defaults";  // the file it came from
  Options global;                            // dotted keys, e.g. "report.validity_seconds"
  std::map<std::string, Options> meters;     // meter name -> its options

  // The options of a configurable meter. REQUIRES: name is one of them.
  const Options& Meter(const std::string& name) const { return meters.at(name); }
};

// The global keys (not under `meters:`), in documentation order.
const std::vector<OptionSpec>& GlobalSchema();
// The keys of one meter: enabled, timeout_seconds, then the meter's own.
std::vector<OptionSpec> MeterSchema(const ConfigurableMeter& meter);

// A config with every key at its default.
Config DefaultConfig(const ConfigurableMeters& meters);
// Parses YAML text; `source` names it in errors. InvalidArgument on any bad key or value.
Result<Config> ParseConfig(const std::string& yaml_text, const std::string& source,
                           const ConfigurableMeters& meters);
// Reads and parses a file. NotFound / IOError / InvalidArgument.
Result<Config> LoadConfigFile(const std::string& path, const ConfigurableMeters& meters);
// Applies one "KEY=VALUE" override (VALUE is YAML: 5, true, [a, b]).
Status ApplyConfigOverride(Config& config, const std::string& assignment, const ConfigurableMeters& meters);
// Validates and sets one dotted key (used by flags such as --state-dir).
Status SetConfigValue(Config& config, const std::string& key, const std::string& yaml_value,
                      const std::string& origin, const ConfigurableMeters& meters);

}  // namespace resmeter
