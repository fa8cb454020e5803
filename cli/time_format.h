// Human lines describing a report's `time` claim, for `resmeter verify` and
// `resmeter probe` summaries. Tolerates claims from older or foreign builds:
// missing members are left out, never invented. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace resmeter {

// E.g. {"trusted (chrony: NTS server 127.0.0.1, stratum 2, leap normal)",
//       "error bound 7.08 us < limit 100 ms (offset -2.47 us, root delay 6.9 us, ...)"}.
std::vector<std::string> DescribeTimeClaim(const nlohmann::json& time);

}  // namespace resmeter
