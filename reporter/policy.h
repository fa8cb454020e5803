// Policy: what a buyer ordered, as clauses on a report's claims, parsed from
// a YAML policy file (see README "Policies" and configs/policies/).
//
//   name: small-vm
//   max_report_age_seconds: 3600
//   time: {require_trusted: true, max_error_bound_seconds: 0.1}
//   evidence: {accept: [sev-snp, tdx], measurements: [HEX, ...]}
//   claims:
//     - cpu.vcpus: {min: 8}
//     - net.download_gbit_per_second: {min: 9, peer: "10.0.0.2:7300"}
//
// Claim names come from the one table in reporter/policy_claims.h. Every
// error a user can make (unknown key or claim, wrong type, a clause without
// an operator, an operator the claim does not take) is InvalidArgument with
// one line "FILE:LINE: message" naming the key. Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace resmeter {

// One clause: a claim and the bounds it must meet.
struct PolicyClause {
  std::string claim;                         // a name from PolicyClaimTable()
  std::optional<double> min, max, equals;    // numeric claims
  std::optional<std::string> equals_text;    // text claims: exact match
  std::optional<std::string> contains_text;  // text claims: substring (case-insensitive)
  std::string peer;                          // net.* qualifier: the target as configured ("" = every target)
  std::optional<int> queue_depth;            // disk.* qualifier (required there)
  int line = 0;                              // 1-based line in the policy file

  // "cpu.vcpus", "disk.rand_read_iops[qd=32]", "net.download_gbit_per_second[peer=h:p]".
  std::string DisplayName() const;
};

// Accepted hardware evidence.
struct PolicyEvidence {
  std::vector<std::string> accept;  // evidence types ("sev-snp", "tdx", "tpm2", "none")
  // Accepted launch measurements (lowercase hex) per type; key "*": any type.
  // Empty: measurements are not checked.
  std::map<std::string, std::vector<std::string>> measurements;
  int line = 0;
};

struct Policy {
  std::string source;  // the file it came from (for messages)
  std::string name;
  std::string description;
  std::vector<PolicyClause> clauses;
  bool require_trusted_time = false;
  std::optional<double> max_time_error_bound_seconds;
  int time_line = 0;
  std::optional<PolicyEvidence> evidence;
  std::optional<double> max_report_age_seconds;
  int max_report_age_line = 0;
};

// Parses a policy from YAML text; `source` names it in error messages.
Result<Policy> ParsePolicy(const std::string& yaml_text, const std::string& source);
// Reads and parses a policy file. NotFound when it cannot be read.
Result<Policy> LoadPolicyFile(const std::string& path);

}  // namespace resmeter
