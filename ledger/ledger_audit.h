// AuditLedger: verifies a usage ledger v2 offline and computes the bill.
//
// Walks the chain with ledger/ledger_chain.h (the walk the writer's
// recovery uses): every line must parse, be signed by the key of its epoch
// and link to the one before (seq, prev). Epochs: each epoch statement's key
// origin must be accepted and its evidence must verify, bound to
// SHA-512(kid || raw SHA-256 of the line before), under the evidence options
// (a policy's pins; "none" evidence only with allow_none, development mode),
// by ledger/ledger_epoch_evidence.h (the appraisal recovery also runs).
// What recovery cut off is shown per epoch (warning). Periods: zero-length
// (warning), overlapping and future (end after the audit time + tolerance)
// periods are findings and not billed; gaps must be explained by an epoch.
// Each finding names its sequence numbers. Only authentic usage statements
// are billed.
//
// Memory is flat in the ledger size (findings and epochs aside); signature
// verification runs on `threads` threads. Pure function of its inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "evidence/evidence_verifier.h"
#include "ledger/ledger_bill.h"
#include "ledger/ledger_statement.h"
#include "core/verdict.h"

namespace resmeter {

struct LedgerAuditOptions {
  std::optional<double> from_unix_seconds;  // bill only time at or after this
  std::optional<double> to_unix_seconds;    // bill only time before this
  // Periods may touch, overlap or leave gaps by this much without a finding.
  double time_tolerance_seconds = 1.0;
  // The audit time: periods ending after it (+ tolerance) are "future". 0: now.
  double now_unix_seconds = 0;
  // Policy hook (policy appraisal lives elsewhere): called for each
  // authenticated usage statement in range; true when its period violated the
  // policy, nullopt when it cannot tell. Unset: no policy.
  std::function<std::optional<bool>(const LedgerStatement&)> policy_violated;
  // Epoch evidence: verified with these options (allow_none: accept "none"
  // evidence, development mode). appraise_evidence false: not checked (tests).
  EvidenceVerifyOptions evidence;
  bool appraise_evidence = true;
  std::vector<std::string> accepted_key_origins = {"ephemeral"};
  // Threads verifying signatures; 0: every core.
  unsigned threads = 0;
  // At most this many findings are listed; the rest are only counted.
  size_t max_findings = 10000;
};

enum class LedgerFindingSeverity { kError, kWarning };

struct LedgerFinding {
  // Chain (ledger/ledger_chain.h): malformed, old_version, torn_line,
  // unknown_key, bad_signature, wrong_key, bad_epoch, missing, broken_link,
  // duplicate, out_of_order. Epochs: epoch_evidence, key_origin, cut.
  // Periods: zero_length, overlap, future_period, time_gap, bad_epoch_gap.
  std::string kind;
  LedgerFindingSeverity severity = LedgerFindingSeverity::kError;
  uint64_t seq = 0;      // first sequence number concerned (0: unknown)
  uint64_t seq_end = 0;  // last one (== seq for a single statement)
  std::string file;      // where it was found
  uint64_t line = 0;
  std::string message;  // one line, names the sequence numbers
};

// One epoch (agent start): its key, evidence appraisal, the gap and the cut.
struct LedgerEpoch {
  uint64_t seq = 0;
  std::string kid;
  std::string key_origin;
  std::string prev_epoch_kid;
  std::string evidence_type;
  bool evidence_ok = false;
  std::string evidence_detail;  // checks passed, or why it failed
  double gap_start_unix_seconds = 0;
  double gap_end_unix_seconds = 0;
  uint64_t cut_bytes = 0;
  std::string cut_sha256;
  std::string cut_file;
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
  uint64_t lines = 0;       // lines read
  uint64_t statements = 0;  // authentic statements in the chain
  uint64_t first_seq = 0, last_seq = 0;
  uint64_t signatures_verified = 0;  // valid signatures checked
  uint64_t authenticated_statements = 0;
  uint64_t unbilled_statements = 0;  // authentic usage statements not billed (period findings)
  std::vector<LedgerFinding> findings;
  uint64_t findings_not_listed = 0;  // beyond max_findings
  uint64_t errors = 0;               // error findings, listed or not
  std::vector<LedgerEpoch> epochs;
  std::vector<LedgerUntrustedPeriod> untrusted_periods;
  LedgerBill bill;
  bool policy_evaluated = false;
  double audit_time_unix_seconds = 0;

  // True when no problem was found (warnings allowed).
  bool clean() const { return errors == 0; }
};

// Audits `files` (in chain order; see ExpandLedgerPaths). Error Result only
// when a file cannot be read, no line is a ledger statement, or it is a v1
// ledger.
Result<LedgerAuditResult> AuditLedger(const std::vector<std::string>& files,
                                      const LedgerAuditOptions& options);

// The audit as named checks: ledger.chain, ledger.epochs.key_origin,
// ledger.epochs.evidence, ledger.periods (failed when they have error
// findings, warning when only warnings).
Verdict LedgerAuditVerdict(const LedgerAuditResult& r);

}  // namespace resmeter
