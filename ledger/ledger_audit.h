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
// are billed. Time axis: timestamp statements carry RFC 3161 tokens for
// earlier lines; tsa/time_axis.h verifies them against the TSA anchors and
// checks that every billed period lies between the stamped times around it
// (findings time_bracket, timestamp_token, timestamp_mismatch), and splits
// the billed time into time-checked and unchecked.
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
#include "core/verdict.h"
#include "evidence/evidence_verifier.h"
#include "ledger/ledger_bill.h"
#include "ledger/ledger_chain.h"
#include "ledger/ledger_statement.h"
#include "tsa/time_axis.h"

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
  // Time axis: TSA anchors (<trust_anchors_dir>/tsa/*.pem; none: tokens are
  // not checked, a warning), the TSAs whose tokens count (signer CN or
  // subject; empty: any anchored TSA), the bracket tolerance.
  TsaAnchors tsa_anchors;
  std::vector<std::string> accepted_tsas;
  double time_bracket_tolerance_seconds = 5.0;
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
  // Time axis: time_bracket, timestamp_token, timestamp_mismatch (errors),
  // timestamp_tsa, timestamp_unchecked (warnings).
  std::string kind;
  LedgerFindingSeverity severity = LedgerFindingSeverity::kError;
  uint64_t seq = 0;      // first sequence number concerned (0: unknown)
  uint64_t seq_end = 0;  // last one (== seq for a single statement)
  std::string file;      // where it was found
  uint64_t line = 0;
  std::string message;  // one line, names the sequence numbers
  // Where it sits in time: the end of the last authenticated period before
  // it (the finding came at or after this); nullopt before any period.
  std::optional<double> after_unix_seconds;
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
  TimeAxisSummary time_axis;  // tokens, time-checked and unchecked seconds of the billed periods
  bool policy_evaluated = false;
  double audit_time_unix_seconds = 0;

  // True when no problem was found (warnings allowed).
  bool clean() const { return errors == 0; }
};

// The audit as an object that takes the ledger in chunks and keeps the chain
// state between them (a collector audits each agent's statements as it
// pulls them). AuditLedger is this object fed the files' lines in one walk,
// so both give the same findings and the same bill for the same lines.
// Not thread-safe.
class LedgerAuditor {
 public:
  explicit LedgerAuditor(LedgerAuditOptions options);

  // Names a source of lines (a file, an agent's feed); LedgerChainLine::file
  // of lines fed later indexes the sources in the order added.
  uint32_t AddSource(std::string name);
  // Audits the next `lines` in chain order. `visit`, when set, sees each line
  // with the chain's decision after the audit handled it.
  void Feed(const std::vector<LedgerChainLine>& lines,
            const std::function<void(const LedgerChainLine&, const LedgerChainStep&)>& visit = nullptr);

  // Audits whole files (the auditor's only input): adds them as sources and
  // walks them. IOError / NotFound naming the file.
  Status FeedFiles(const std::vector<std::string>& files);

  // The result so far (bill not included until Finish).
  const LedgerAuditResult& partial() const { return result_; }
  // The running bill totals.
  const LedgerBillTotals& running_totals() const { return bill_.totals(); }
  const LedgerChain& chain() const { return chain_; }
  // Ends the audit: the result with its bill; the auditor is spent. Error
  // Result when no line was a ledger statement, or it is a v1 ledger.
  Result<LedgerAuditResult> Finish();

 private:
  bool Visit(const LedgerChainLine& l, const LedgerChainStep& st);
  void OnEpoch(const LedgerChainLine& l, const LedgerStatement& s);
  void OnUsage(const LedgerChainLine& l, const LedgerStatement& s);
  // Records a finding (or only counts it past max_findings).
  void Add(std::string kind, uint64_t seq, uint64_t seq_end, const LedgerChainLine* where,
           std::string message, LedgerFindingSeverity severity = LedgerFindingSeverity::kError);
  std::string Where(const LedgerChainLine& l) const;

  std::vector<std::string> sources_;
  LedgerAuditOptions options_;
  double now_ = 0;
  LedgerChain chain_;
  LedgerBillBuilder bill_;
  TimeAxisChecker time_axis_;
  LedgerAuditResult result_;
  uint64_t parsed_lines_ = 0;
  bool have_period_ = false;
  uint64_t last_period_seq_ = 0;
  double last_end_ = 0;
};

// Audits `lines` (one ledger's lines in chain order, without newlines) as if
// they were one file named `name`: the same result as AuditLedger over a
// file holding exactly these lines, each ending in a newline.
Result<LedgerAuditResult> AuditLedgerLines(const std::vector<std::string>& lines, const std::string& name,
                                           const LedgerAuditOptions& options);

// Audits `files` (in chain order; see ExpandLedgerPaths). Error Result only
// when a file cannot be read, no line is a ledger statement, or it is a v1
// ledger.
Result<LedgerAuditResult> AuditLedger(const std::vector<std::string>& files,
                                      const LedgerAuditOptions& options);

// The audit as named checks: ledger.chain, ledger.epochs.key_origin,
// ledger.epochs.evidence, ledger.periods, ledger.time (failed when they have
// error findings, warning when only warnings).
Verdict LedgerAuditVerdict(const LedgerAuditResult& r);

}  // namespace resmeter
