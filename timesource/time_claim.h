// The `time` claim of reports and ledger statements.
//
// Until a trusted source is consulted, the claim states the system clock and
// marks it untrusted with the reason; it never invents synchronization data.
#pragma once

#include <nlohmann/json.hpp>

#include "core/option_spec.h"

namespace resmeter {

// The time assessment for a report issued at `wall_seconds` (Unix time).
nlohmann::json CurrentTimeClaim(const Options& global_config, double wall_seconds);

}  // namespace resmeter
