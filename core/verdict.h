// Verdict: the one answer of an appraisal (a report, an identity, a ledger),
// as data that the CLI, the HTTP API and the EAR output only render.
//
// An appraisal is a list of named checks, each with an outcome and a one-line
// detail. The verdict is ACCEPTED when no check failed and none hit an input
// error; otherwise REJECTED with the failed checks as reasons. Exit codes:
// 0 accepted, 1 rejected, 2 when any check is an input error (the input
// could not be appraised at all). Plain value type; not thread-safe to
// mutate, safe to read from several threads.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace resmeter {

enum class CheckOutcome {
  kPassed,         // the check ran and held
  kFailed,         // the check ran and did not hold: REJECTED
  kWarning,        // shown, does not reject (e.g. a finding the policy tolerates)
  kNotApplicable,  // not asked for or nothing to check (e.g. no nonce given)
  kError,          // the input could not be appraised (malformed, unreadable): REJECTED, exit 2
};

// "passed", "failed", "warning", "not_applicable", "error".
const char* CheckOutcomeName(CheckOutcome outcome);

struct Check {
  std::string name;  // dotted, stable: "signature", "evidence", "identity.evidence", "policy.cpu.vcpus"
  CheckOutcome outcome = CheckOutcome::kPassed;
  std::string detail;  // one line: what was found, or why it failed
};

class Verdict {
 public:
  // Appends a check (kept in the order added).
  void Add(std::string name, CheckOutcome outcome, std::string detail);
  // Appends every check of `other`, their names prefixed by `prefix` ("" keeps them).
  void Merge(const Verdict& other, std::string_view prefix = "");

  const std::vector<Check>& checks() const { return checks_; }
  // True when no check failed or errored.
  bool accepted() const;
  // True when some check is an input error.
  bool input_error() const;
  // "name: detail" of each failed or errored check, in order.
  std::vector<std::string> Reasons() const;
  // "ACCEPTED" or "REJECTED: reason; reason; ...".
  std::string Line() const;
  // 0 accepted, 2 any input error, 1 otherwise.
  int ExitCode() const;
  // {"verdict": "ACCEPTED"|"REJECTED", "reasons": [...], "checks": [{name, outcome, detail}]}.
  nlohmann::json ToJson() const;

 private:
  std::vector<Check> checks_;
};

}  // namespace resmeter
