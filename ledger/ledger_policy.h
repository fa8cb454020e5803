// LedgerPolicyAssessor: the clauses of a policy that a usage ledger can
// express, judged per usage period, for `resmeter ledger audit --policy`.
//
// From one statement of T seconds (end - start):
//   cpu.vcpus              = (delivered + stolen vCPU-seconds) / T
//   cpu.availability_ratio = delivered / (delivered + stolen)
//   cpu.steal_ratio        = stolen / (delivered + stolen)
//   memory.total_gib       = memory GiB-seconds / T  (time without a memory reading counts as 0)
//   gpu.count              = GPU-seconds / T
//   time.trusted           = the statement's time_trusted
// Averages are rounded to two decimals, so sampling jitter of a few
// milliseconds does not turn 8 vCPUs into 7.998. Every other clause is "not
// assessable from the ledger" and listed once. Consecutive periods failing
// the same clauses are grouped (statements of other kinds in between do
// not split a run). Not thread-safe: the audit calls Assess() in
// sequence order.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger_statement.h"
#include "policy/policy.h"

namespace resmeter {

// A failing clause over a run of periods, with the range of measured values.
struct LedgerClauseFailure {
  std::string name;
  std::string required;
  std::string unit;
  std::optional<double> measured_min, measured_max;  // empty for time.trusted
  std::string detail;                                // time.trusted: the first reason

  // "6 vCPU" or "6 .. 7" or "untrusted: ...".
  std::string Measured() const;
};

// Consecutive usage statements that failed the same clauses.
struct LedgerPolicyViolation {
  uint64_t first_seq = 0, last_seq = 0;
  double start_unix_seconds = 0, end_unix_seconds = 0;
  std::vector<LedgerClauseFailure> failures;
};

class LedgerPolicyAssessor {
 public:
  explicit LedgerPolicyAssessor(Policy policy);
  LedgerPolicyAssessor(const LedgerPolicyAssessor&) = delete;
  LedgerPolicyAssessor& operator=(const LedgerPolicyAssessor&) = delete;

  // Judges one authenticated usage statement: true when it violated an
  // assessable clause, nullopt when nothing could be judged (no assessable
  // clause, or an empty period). For LedgerAuditOptions::policy_violated.
  std::optional<bool> Assess(const LedgerStatement& s);

  const Policy& policy() const { return policy_; }
  // Clauses the ledger cannot express, e.g. "memory.triad_gb_per_second >= 100 GB/s".
  const std::vector<std::string>& not_assessable() const { return not_assessable_; }
  const std::vector<LedgerPolicyViolation>& violations() const { return violations_; }
  // {"file", "assessed_clauses", "not_assessable", "violations": [...]}.
  nlohmann::json ToJson() const;

 private:
  struct Assessable {
    const PolicyClause* clause;  // nullptr: time.trusted
    std::string name, required, unit;
  };
  Policy policy_;
  std::vector<Assessable> assessable_;
  std::vector<std::string> not_assessable_;
  std::vector<LedgerPolicyViolation> violations_;
  std::optional<uint64_t> last_assessed_seq_;  // the previous usage statement judged
};

}  // namespace resmeter
