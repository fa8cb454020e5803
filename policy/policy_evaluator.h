// Policy evaluation: a Policy against the claims of a verified report, the
// appraisal of its evidence and the current time, giving one ClauseResult
// per requirement (claims first, then findings, meter ages, time, evidence
// and report age).
//
// A clause passes only on a measured value inside its bounds; a value that is
// missing, or whose meter was unavailable or failed, fails with "unavailable:
// <reason>". A net.* clause also fails unless every target it reads was
// co-signed by a peer the policy lists (by key thumbprint) and that
// co-signature holds. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "jose/jwk.h"
#include "policy/policy.h"
#include "policy/policy_claims.h"
#include "evidence/report_evidence.h"

namespace resmeter {

struct ClauseResult {
  std::string name;      // "cpu.vcpus", "disk.rand_read_iops[qd=32]", "time.trusted", "evidence.type", ...
  std::string required;  // ">= 8", "<= 1 ms", "one of sev-snp, tdx", ...
  std::string measured;  // "16", "2.9 GHz", "unavailable: cpu.throttling unavailable: no PMU"
  bool passed = false;
  int line = 0;  // the policy line it came from (0: unknown)

  nlohmann::json ToJson() const;
};

struct PolicyVerdict {
  bool passed = false;  // every clause passed
  std::vector<ClauseResult> clauses;

  size_t failed() const;
  // {"passed", "failed", "clauses": [...]}.
  nlohmann::json ToJson() const;
};

// Evaluates `policy` against a verified report's `claims`; `evidence` is its
// appraisal (evidence/report_evidence.h), `now_unix_seconds` the time the
// report's and meters' ages are measured at, and `agent_key` the key the
// report's signature was verified with (it checks the agent's half of the
// net.* co-signatures).
PolicyVerdict EvaluatePolicy(const Policy& policy, const nlohmann::json& claims,
                             const EvidenceAppraisal& evidence, double now_unix_seconds,
                             const PublicKey& agent_key);
// As above, with the agent key taken from the claims' cnf.jwk (a verified
// report states the key that signed it there). Prefer the overload above
// where the verification key is at hand: net.* clauses fail when cnf.jwk is
// missing or malformed.
PolicyVerdict EvaluatePolicy(const Policy& policy, const nlohmann::json& claims,
                             const EvidenceAppraisal& evidence, double now_unix_seconds);

// Judges one claim clause on a measurement (shared with the ledger's policy
// assessment). REQUIRES: spec is FindPolicyClaim(clause.claim).
ClauseResult JudgeClause(const PolicyClause& clause, const PolicyClaimSpec& spec, const PolicyMeasurement& m);
// "12.5 GHz": a number the way the clause table prints it, with the unit.
std::string FormatPolicyNumber(double v, const std::string& unit);

}  // namespace resmeter
