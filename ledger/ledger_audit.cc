#include "ledger/ledger_audit.h"

#include <algorithm>
#include <cmath>

#include "core/env.h"
#include "core/strings.h"
#include "ledger/ledger_chain.h"
#include "ledger/ledger_epoch_evidence.h"

namespace resmeter {
namespace {

std::string Seq(uint64_t s) { return "seq " + std::to_string(s); }

// "a, b, c".
std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// "1800000000.5" without trailing zeros.
std::string Time(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", t);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

class Auditor {
 public:
  Auditor(const std::vector<std::string>& files, const LedgerAuditOptions& options)
      : files_(files), options_(options), bill_(options.from_unix_seconds, options.to_unix_seconds) {
    now_ = options.now_unix_seconds > 0 ? options.now_unix_seconds : DefaultEnv()->WallSeconds();
  }

  // Walks the chain and returns the result.
  Result<LedgerAuditResult> Run();

 private:
  // Handles one line the chain judged.
  bool Visit(const LedgerChainLine& l, const LedgerChainStep& st);
  void OnEpoch(const LedgerChainLine& l, const LedgerStatement& s);
  void OnUsage(const LedgerChainLine& l, const LedgerStatement& s);
  // Records a finding (or only counts it past max_findings).
  void Add(std::string kind, uint64_t seq, uint64_t seq_end, const LedgerChainLine* where,
           std::string message, LedgerFindingSeverity severity = LedgerFindingSeverity::kError);
  std::string Where(const LedgerChainLine& l) const { return files_[l.file] + ":" + std::to_string(l.line); }

  const std::vector<std::string>& files_;
  const LedgerAuditOptions& options_;
  double now_ = 0;
  LedgerBillBuilder bill_;
  LedgerAuditResult result_;
  uint64_t parsed_lines_ = 0;
  bool have_period_ = false;
  uint64_t last_period_seq_ = 0;
  double last_end_ = 0;
};

void Auditor::Add(std::string kind, uint64_t seq, uint64_t seq_end, const LedgerChainLine* where,
                  std::string message, LedgerFindingSeverity severity) {
  if (severity == LedgerFindingSeverity::kError) ++result_.errors;
  if (result_.findings.size() >= options_.max_findings) {
    ++result_.findings_not_listed;
    return;
  }
  LedgerFinding f;
  f.kind = std::move(kind);
  f.severity = severity;
  f.seq = seq;
  f.seq_end = seq_end;
  if (where) {
    f.file = files_[where->file];
    f.line = where->line;
  }
  f.message = std::move(message);
  result_.findings.push_back(std::move(f));
}

bool Auditor::Visit(const LedgerChainLine& l, const LedgerChainStep& st) {
  ++result_.lines;
  if (st.parsed) ++parsed_lines_;
  const uint64_t seq = st.parsed ? st.statement.seq : 0;
  if (st.verdict != LedgerLineVerdict::kAccepted) {
    // A torn last line is an append in progress (or a crash the writer cuts at its next start).
    const bool last_file_torn = st.verdict == LedgerLineVerdict::kTorn && l.file + 1 == files_.size();
    std::string message = files_[l.file] + ": " + st.why;
    if (st.verdict == LedgerLineVerdict::kMissing) {
      const uint64_t from = result_.statements ? result_.last_seq + 1 : 1;
      Add("missing", from, seq - 1, &l, message);
    } else {
      if (!st.advanced && st.parsed && st.statement.kind == LedgerKind::kUsage) message += "; not billed";
      Add(LedgerLineVerdictName(st.verdict), seq, seq, &l, message,
          last_file_torn ? LedgerFindingSeverity::kWarning : LedgerFindingSeverity::kError);
    }
    if (!st.advanced) {
      if (st.parsed && st.statement.kind == LedgerKind::kUsage)
        bill_.AddUnauthenticated(st.statement.vcpu_delivered_seconds);
      return true;
    }
  }
  const LedgerStatement& s = st.statement;
  if (result_.statements == 0) result_.first_seq = s.seq;
  ++result_.statements;
  ++result_.signatures_verified;
  ++result_.authenticated_statements;
  result_.last_seq = s.seq;
  if (s.kind == LedgerKind::kEpoch)
    OnEpoch(l, s);
  else if (s.kind == LedgerKind::kUsage)
    OnUsage(l, s);
  return true;
}

void Auditor::OnEpoch(const LedgerChainLine& l, const LedgerStatement& s) {
  LedgerEpoch e;
  e.seq = s.seq;
  e.kid = s.kid;
  e.key_origin = s.key_origin;
  e.prev_epoch_kid = s.prev_epoch_kid;
  e.gap_start_unix_seconds = s.start_unix_seconds;
  e.gap_end_unix_seconds = s.end_unix_seconds;
  e.cut_bytes = s.cut_bytes;
  e.cut_sha256 = s.cut_sha256;
  e.cut_file = s.cut_file;
  e.clean = s.clean;
  e.reason = s.reason;
  const std::string at = "epoch " + Seq(s.seq) + " (kid " + s.kid + ")";
  const auto& origins = options_.accepted_key_origins;
  if (std::find(origins.begin(), origins.end(), s.key_origin) == origins.end()) {
    Add("key_origin", s.seq, s.seq, &l,
        at + ": key_origin '" + s.key_origin + "' is not accepted (accepted: " + Join(origins, ", ") + ")");
  }
  // Evidence bound to SHA-512(kid || raw SHA-256 of the line before), appraised as recovery does.
  e.evidence_type = LedgerEpochEvidenceType(s);
  if (!options_.appraise_evidence) {
    e.evidence_ok = true;
    e.evidence_detail = "not appraised";
  } else {
    auto v = AppraiseLedgerEpochEvidence(s, options_.evidence);
    e.evidence_ok = v.ok();
    if (v.ok()) {
      e.evidence_detail = v->checks.empty() ? "no checks (development mode allowed)" : Join(v->checks, ", ");
    } else {
      e.evidence_detail = v.status().message();
      std::string hint =
          e.evidence_type == "none" ? " (a development ledger: audit it with --allow-dev-evidence)" : "";
      Add("epoch_evidence", s.seq, s.seq, &l,
          at + ": evidence " + e.evidence_type + " rejected: " + e.evidence_detail + hint);
    }
  }
  if (have_period_ && std::fabs(s.start_unix_seconds - last_end_) > options_.time_tolerance_seconds) {
    Add("bad_epoch_gap", s.seq, s.seq, &l,
        at + " says the gap starts at " + Time(s.start_unix_seconds) + " but " + Seq(last_period_seq_) +
            " ended at " + Time(last_end_));
  }
  if (s.cut_bytes > 0) {
    Add("cut", s.seq, s.seq, &l,
        at + ": recovery cut off " + std::to_string(s.cut_bytes) + " bytes (sha256 " + s.cut_sha256 +
            ") from " + s.cut_file + " after " + Seq(s.seq - 1) + "; not billed",
        LedgerFindingSeverity::kWarning);
  }
  bill_.AddRestartGap(s.start_unix_seconds, s.end_unix_seconds);
  have_period_ = true;
  last_period_seq_ = s.seq;
  last_end_ = std::max(last_end_, s.end_unix_seconds);
  result_.epochs.push_back(std::move(e));
}

void Auditor::OnUsage(const LedgerChainLine& l, const LedgerStatement& s) {
  const double tol = options_.time_tolerance_seconds;
  bool billable = true;
  const std::string period =
      Seq(s.seq) + " [" + Time(s.start_unix_seconds) + ", " + Time(s.end_unix_seconds) + ")";
  if (s.end_unix_seconds <= s.start_unix_seconds) {
    Add("zero_length", s.seq, s.seq, &l, period + " has zero length; not billed",
        LedgerFindingSeverity::kWarning);
    billable = false;
  }
  if (have_period_ && s.start_unix_seconds < last_end_ - tol) {
    Add("overlap", s.seq, s.seq, &l,
        period + " overlaps " + Seq(last_period_seq_) + ", which ended at " + Time(last_end_) +
            "; not billed");
    billable = false;
  } else if (have_period_ && s.start_unix_seconds > last_end_ + tol) {
    Add("time_gap", last_period_seq_, s.seq, &l,
        Time(s.start_unix_seconds - last_end_) + " s between " + Seq(last_period_seq_) + " and " +
            Seq(s.seq) + " with no epoch statement");
  }
  if (s.end_unix_seconds > now_ + tol) {
    Add("future_period", s.seq, s.seq, &l,
        period + " ends after the audit time " + Time(now_) + "; not billed");
    billable = false;
  }
  if (!s.time_trusted) {
    auto& u = result_.untrusted_periods;
    if (!u.empty() && u.back().last_seq + 1 == s.seq) {
      u.back().last_seq = s.seq;
      u.back().end_unix_seconds = s.end_unix_seconds;
    } else {
      u.push_back({s.seq, s.seq, s.start_unix_seconds, s.end_unix_seconds, s.time_reason});
    }
  }
  if (billable) {
    std::optional<bool> violated;
    if (options_.policy_violated) {
      violated = options_.policy_violated(s);
      result_.policy_evaluated = result_.policy_evaluated || violated.has_value();
    }
    bill_.AddUsage(s.start_unix_seconds, s.end_unix_seconds, s.vcpu_delivered_seconds, s.vcpu_stolen_seconds,
                   s.memory_gib_seconds, s.gpu_seconds, s.time_trusted, violated,
                   MeasuredAvailability{s.seq, s.availability.samples, s.availability.measured_ratio,
                                        s.availability.vcpus, s.availability.sampler_cpu_ratio});
  } else {
    ++result_.unbilled_statements;
  }
  have_period_ = true;
  last_period_seq_ = s.seq;
  last_end_ = std::max(last_end_, s.end_unix_seconds);
}

Result<LedgerAuditResult> Auditor::Run() {
  if (files_.empty()) return Status::InvalidArgument("no ledger files given");
  LedgerChain chain(options_.threads);
  RESMETER_ASSIGN_OR_RETURN(
      bool done, WalkLedgerFiles(files_, chain, [this](const LedgerChainLine& l, const LedgerChainStep& st) {
        return Visit(l, st);
      }));
  (void)done;
  for (const auto& f : result_.findings) {
    if (f.kind == "old_version" && f.line == 1 && result_.statements == 0) {
      return Status::InvalidArgument(
          f.file + " is a v1 usage ledger (unsigned usage lines); this version audits only v" +
          std::to_string(kLedgerVersion) + " ledgers: audit it with the release that wrote it");
    }
  }
  if (result_.lines == 0 || (parsed_lines_ == 0 && result_.statements == 0)) {
    return Status::InvalidArgument("no ledger statement in " + files_.front() +
                                   (files_.size() > 1 ? " ..." : ""));
  }
  result_.audit_time_unix_seconds = now_;
  result_.bill = bill_.Finish();
  return std::move(result_);
}

// Which verdict check a finding kind belongs to.
const char* CheckOf(const std::string& kind) {
  if (kind == "epoch_evidence") return "ledger.epochs.evidence";
  if (kind == "key_origin") return "ledger.epochs.key_origin";
  if (kind == "zero_length" || kind == "overlap" || kind == "future_period" || kind == "time_gap" ||
      kind == "bad_epoch_gap")
    return "ledger.periods";
  return "ledger.chain";
}

}  // namespace

Result<LedgerAuditResult> AuditLedger(const std::vector<std::string>& files,
                                      const LedgerAuditOptions& options) {
  Auditor auditor(files, options);
  return auditor.Run();
}

Verdict LedgerAuditVerdict(const LedgerAuditResult& r) {
  Verdict v;
  for (const char* name :
       {"ledger.chain", "ledger.epochs.key_origin", "ledger.epochs.evidence", "ledger.periods"}) {
    uint64_t errors = 0, warnings = 0;
    std::string first_error, first_warning;
    for (const auto& f : r.findings) {
      if (std::string(CheckOf(f.kind)) != name) continue;
      if (f.severity == LedgerFindingSeverity::kError) {
        if (errors++ == 0) first_error = f.message;
      } else if (warnings++ == 0) {
        first_warning = f.message;
      }
    }
    if (std::string(name) == "ledger.chain" && r.statements == 0 && errors == 0) {
      errors = 1;
      first_error = "no authentic statement in the ledger";
    }
    if (std::string(name) == "ledger.chain" && r.findings_not_listed > 0 && errors == 0 &&
        r.errors > 0) {  // unlisted errors count against the chain
      errors = r.errors;
      first_error = std::to_string(r.errors) + " problems (not all listed)";
    }
    if (errors > 0) {
      v.Add(name, CheckOutcome::kFailed,
            std::to_string(errors) + " problem" + (errors == 1 ? "" : "s") + ", first: " + first_error);
    } else if (warnings > 0) {
      v.Add(name, CheckOutcome::kWarning, first_warning);
    } else if (std::string(name) == "ledger.chain") {
      v.Add(name, CheckOutcome::kPassed,
            std::to_string(r.statements) + " statements signed and linked, " +
                std::to_string(r.epochs.size()) + " epoch" + (r.epochs.size() == 1 ? "" : "s"));
    } else {
      v.Add(name, CheckOutcome::kPassed, "");
    }
  }
  return v;
}

}  // namespace resmeter
