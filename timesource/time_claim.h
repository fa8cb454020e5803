// The `time` claim of reports and ledger statements.
//
// It is the time assessment of timesource/time_assessment.h (chronyd state,
// NTS, error bound, `trusted` with the reason) for the global config keys
// time.* (agent/config_schema.cc), plus the wall-clock time the report was
// issued at. An unreachable chronyd gives an untrusted claim, never an error.
// Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "core/option_spec.h"
#include "timesource/time_assessment.h"

namespace resmeter {

// The assessment options from the global config (missing keys: defaults).
TimeSourceOptions TimeSourceOptionsFromConfig(const Options& global_config);
// The time assessment for a report issued at `wall_seconds` (Unix time).
nlohmann::json CurrentTimeClaim(const Options& global_config, double wall_seconds);

}  // namespace resmeter
