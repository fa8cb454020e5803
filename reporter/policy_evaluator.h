// Policy evaluation: a Policy against the claims of a verified report, the
// appraisal of its evidence and the current time, giving one ClauseResult
// per requirement (claims first, then time, evidence and report age).
//
// A clause passes only on a measured value inside its bounds; a value that is
// missing, or whose meter was unavailable or failed, fails with "unavailable:
// <reason>". Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reporter/policy.h"
#include "reporter/policy_claims.h"
#include "reporter/report_evidence.h"

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
// appraisal (reporter/report_evidence.h) and `now_unix_seconds` the time the
// report's age is measured at.
PolicyVerdict EvaluatePolicy(const Policy& policy, const nlohmann::json& claims,
                             const EvidenceAppraisal& evidence, double now_unix_seconds);

// Judges one claim clause on a measurement (shared with the ledger's policy
// assessment). REQUIRES: spec is FindPolicyClaim(clause.claim).
ClauseResult JudgeClause(const PolicyClause& clause, const PolicyClaimSpec& spec, const PolicyMeasurement& m);
// "12.5 GHz": a number the way the clause table prints it, with the unit.
std::string FormatPolicyNumber(double v, const std::string& unit);

}  // namespace resmeter
