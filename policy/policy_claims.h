// The policy claim table: every claim name a policy clause may use, its unit,
// the qualifier it takes, and where its value is in a report's submods (with
// the unit conversion). One table, in policy_claims.cc; README "Policies"
// lists the same names.
//
// A value that is absent, or whose meter is missing, unavailable or failed,
// is a PolicyMeasurement with `unavailable` set: clauses on it fail, never
// pass. Stateless; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace resmeter {

enum class PolicyValueKind { kNumber, kText };
enum class PolicyQualifier { kNone, kPeer, kQueueDepth };

// What a report says about one clause's claim.
struct PolicyMeasurement {
  std::optional<double> number;    // numeric claims
  std::vector<std::string> texts;  // text claims: one per device (every one must match)
  std::string unavailable;         // non-empty: why there is no value
};

struct PolicyClaimSpec {
  const char* name;  // e.g. "cpu.vcpus"
  const char* unit;  // for people: "GHz", "GiB", "" (a count or ratio)
  PolicyValueKind kind;
  PolicyQualifier qualifier;
  bool higher_is_better;  // picks the worst of several targets/devices
  const char* source;     // where it comes from, for the README and --help
  // Reads the value for `clause` out of the report's `submods`.
  PolicyMeasurement (*measure)(const nlohmann::json& submods, const PolicyClause& clause);
};

// Every claim, in README order.
const std::vector<PolicyClaimSpec>& PolicyClaimTable();
// The row for a name, or nullptr.
const PolicyClaimSpec* FindPolicyClaim(const std::string& name);

}  // namespace resmeter
