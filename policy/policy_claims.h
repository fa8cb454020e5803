// The policy claim table: every claim name a policy clause may use, its unit,
// the qualifier it takes, and the declared meter claim it reads
// (claims/*_claim_specs.h) with the unit conversion. One table, in
// policy_claims.cc; the README "Policies" table is generated from it and
// checked by tests/unit/declared_claims_test.cc, which also checks that each
// row reads a declared claim naming this policy claim.
//
// A value that is absent, or whose meter is missing, unavailable or failed,
// is a PolicyMeasurement with `unavailable` set: clauses on it fail, never
// pass. Stateless; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "claims/claim_spec.h"
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
  bool higher_is_better;   // picks the worst of several targets/devices
  const ClaimSpec* claim;  // the declared meter claim it reads
  ClaimBindings bindings;  // the family member it reads ("queue_depth" = "N": the clause's)
  const char* conversion;  // from the claim to this unit, for the README ("/ 1e9", "" = as is)
  // Reads the value for `clause` out of the report's `submods`.
  PolicyMeasurement (*measure)(const nlohmann::json& submods, const PolicyClause& clause);
};

// "cpu.frequency `single_core_burst_hz` / 1e9": where a row's value comes from.
std::string PolicyClaimSource(const PolicyClaimSpec& spec);

// Every claim, in README order.
const std::vector<PolicyClaimSpec>& PolicyClaimTable();
// The row for a name, or nullptr.
const PolicyClaimSpec* FindPolicyClaim(const std::string& name);

}  // namespace resmeter
