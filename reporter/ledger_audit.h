// AuditLedger: verifies a usage ledger offline and computes the bill.
//
// Checks, per README "Usage ledger": each line parses; its kid is the given
// key's; every signed statement (restart markers, checkpoints) verifies;
// sequence numbers are continuous, unique and in order; each `prev` is the
// SHA-256 of the statement before; every statement is covered by a valid
// signature through the chain (the rest is "unauthenticated", at the end the
// "unauthenticated tail"); periods never go back in time and every time gap
// is explained by a restart marker. Each finding names its sequence numbers.
// Only authenticated usage statements are billed.
//
// Memory grows with the number of statements (about 150 bytes each). Pure
// function of its inputs; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "reporter/jwk.h"
#include "reporter/ledger_bill.h"
#include "reporter/ledger_statement.h"

namespace resmeter {

struct LedgerAuditOptions {
  std::optional<double> from_unix_seconds;  // bill only time at or after this
  std::optional<double> to_unix_seconds;    // bill only time before this
  // Periods may touch, overlap or leave gaps by this much without a finding.
  double time_tolerance_seconds = 1.0;
  // Policy hook (policy appraisal lives elsewhere): called for each
  // authenticated usage statement in range; true when its period violated the
  // policy, nullopt when it cannot tell. Unset: no policy.
  std::function<std::optional<bool>(const LedgerStatement&)> policy_violated;
  // At most this many findings are listed; the rest are only counted.
  size_t max_findings = 10000;
};

enum class LedgerFindingSeverity { kError, kWarning };

struct LedgerFinding {
  // One of: malformed, torn_line, wrong_key, bad_signature, duplicate, fork,
  // conflict, out_of_order, missing, broken_link, unauthenticated,
  // unauthenticated_tail, time_backwards, time_gap, bad_restart, partial_ledger.
  std::string kind;
  LedgerFindingSeverity severity = LedgerFindingSeverity::kError;
  uint64_t seq = 0;      // first sequence number concerned (0: unknown)
  uint64_t seq_end = 0;  // last one (== seq for a single statement)
  std::string file;      // where it was found, when it is one line
  uint64_t line = 0;
  std::string message;   // one line, names the sequence numbers
};

// A restart marker: the gap it records.
struct LedgerRestart {
  uint64_t seq = 0;
  double gap_start_unix_seconds = 0;
  double gap_end_unix_seconds = 0;
  uint64_t torn_bytes = 0;
  bool clean = false;
  std::string reason;
};

// Consecutive usage statements whose time claim was not trusted.
struct LedgerUntrustedPeriod {
  uint64_t first_seq = 0, last_seq = 0;
  double start_unix_seconds = 0, end_unix_seconds = 0;
  std::string reason;  // of the first statement
};

struct LedgerAuditResult {
  uint64_t lines = 0;                 // lines read
  uint64_t statements = 0;            // distinct statements kept
  uint64_t first_seq = 0, last_seq = 0;
  uint64_t signatures_verified = 0;   // valid signatures checked
  uint64_t authenticated_statements = 0;
  std::vector<LedgerFinding> findings;
  uint64_t findings_not_listed = 0;   // beyond max_findings
  uint64_t errors = 0;                // error findings, listed or not
  std::vector<LedgerRestart> restarts;
  std::vector<LedgerUntrustedPeriod> untrusted_periods;
  LedgerBill bill;
  bool policy_evaluated = false;

  // True when no integrity problem was found (warnings allowed).
  bool clean() const { return errors == 0; }
};

// Audits `files` (in chain order; see ExpandLedgerPaths) against `key`.
// Error Result only when a file cannot be read or holds no statement at all.
Result<LedgerAuditResult> AuditLedger(const std::vector<std::string>& files, const PublicKey& key,
                                      const LedgerAuditOptions& options);

}  // namespace resmeter
