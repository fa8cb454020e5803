// The meter registry: one table naming every meter, its kind, its default
// timeout, whether it runs by default, its options and its factory.
//
// Adding a meter = one .h/.cc pair in its domain's folder (meters/cpu/,
// meters/memory/, meters/disk/, meters/net/, timesource/ or gpu/) plus one
// row in meters/registry/registry.cc, the one library that depends on every
// domain. The table also yields the config schema and --only/--skip.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/option_spec.h"
#include "core/result.h"
#include "meters/api/meter.h"

namespace resmeter {

struct MeterInfo {
  std::string name;            // stable dotted name, e.g. "cpu.time"
  MeterKind kind;
  double default_timeout_seconds;
  bool enabled_by_default;
  std::string description;     // one line for --help and the README
  std::vector<OptionSpec> options;  // meter-specific keys under meters.<name>
  std::function<std::unique_ptr<Meter>()> factory;
};

// All meters, in report order.
const std::vector<MeterInfo>& MeterRegistry();
// The row for a name, or nullptr.
const MeterInfo* FindMeter(const std::string& name);
// Chooses meters: `only` (if non-empty) lists exactly those, else every meter
// enabled by `enabled`; `skip` removes names. Unknown names are InvalidArgument.
Result<std::vector<const MeterInfo*>> SelectMeters(const std::vector<std::string>& only,
                                                   const std::vector<std::string>& skip,
                                                   const std::function<bool(const MeterInfo&)>& enabled);

}  // namespace resmeter
