#include "reporter/ledger_audit.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <unordered_map>

#include "core/strings.h"
#include "reporter/ledger_reader.h"

namespace resmeter {
namespace {

// What the audit keeps of one statement (the line itself is not kept).
struct Record {
  uint64_t seq = 0;
  uint64_t line = 0;
  unsigned char hash[32];
  unsigned char prev[32];
  double start = 0, end = 0;
  double amounts[4] = {0, 0, 0, 0};  // delivered, stolen, GiB, GPU seconds
  MeasuredAvailability measured;     // measured availability (samples 0: none)
  uint64_t torn_bytes = 0;
  uint32_t file = 0;
  uint32_t reason = 0;   // interned time_reason (usage) or reason (restart)
  uint32_t report = 0;   // interned report digest
  LedgerKind kind = LedgerKind::kUsage;
  bool sig_ok = false;
  bool time_trusted = false;
  bool clean = false;
  bool out_of_order = false;  // a higher seq came earlier in file order
  bool link_ok = false;       // prev == hash of seq-1 (set in the ordered pass)
  bool authenticated = false;
};

// Deduplicated strings, index 0 is "".
class Interner {
 public:
  Interner() { Get(""); }
  uint32_t Get(const std::string& s) {
    auto [it, added] = index_.try_emplace(s, static_cast<uint32_t>(strings_.size()));
    if (added) strings_.push_back(s);
    return it->second;
  }
  const std::string& operator[](uint32_t i) const { return strings_[i]; }

 private:
  std::unordered_map<std::string, uint32_t> index_;
  std::vector<std::string> strings_;
};

std::string Seq(uint64_t s) { return "seq " + std::to_string(s); }
std::string SeqRange(uint64_t a, uint64_t b) { return a == b ? Seq(a) : "seq " + std::to_string(a) + ".." + std::to_string(b); }

class Auditor {
 public:
  Auditor(const std::vector<std::string>& files, const PublicKey& key, const LedgerAuditOptions& options)
      : files_(files), key_(key), options_(options), bill_(options.from_unix_seconds, options.to_unix_seconds) {}

  // Runs every pass and returns the result.
  Result<LedgerAuditResult> Run();

 private:
  // Reads every line of every file into records_.
  Status ReadAll();
  // Parses, hashes and (when signed) verifies one line; records it or a finding.
  void AddLine(const LedgerLine& line);
  void OrderedPass();
  void Authenticate();
  void CheckTimeAndBill();
  // Records a finding (or only counts it past max_findings).
  void Add(std::string kind, uint64_t seq, uint64_t seq_end, const Record* where, std::string message,
           LedgerFindingSeverity severity = LedgerFindingSeverity::kError);
  // "file:line" of a record.
  std::string Where(const Record& r) const { return files_[r.file] + ":" + std::to_string(r.line); }

  const std::vector<std::string>& files_;
  const PublicKey& key_;
  const LedgerAuditOptions& options_;
  std::vector<Record> records_;
  std::vector<uint32_t> kept_;  // indices of distinct statements, in seq order
  Interner strings_;
  uint64_t max_seq_ = 0;
  LedgerBillBuilder bill_;
  LedgerAuditResult result_;
};

void Auditor::Add(std::string kind, uint64_t seq, uint64_t seq_end, const Record* where, std::string message,
                  LedgerFindingSeverity severity) {
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

void Auditor::AddLine(const LedgerLine& line) {
  const std::string at = files_[line.file_index] + ":" + std::to_string(line.line_number);
  auto add_unparsed = [&](const std::string& kind, const std::string& why, LedgerFindingSeverity sev) {
    Record where;
    where.file = static_cast<uint32_t>(line.file_index);
    where.line = line.line_number;
    Add(kind, 0, 0, &where, at + ": " + why, sev);
  };
  if (line.too_long) return add_unparsed("malformed", "line longer than " + std::to_string(kMaxLedgerLineBytes) + " bytes", LedgerFindingSeverity::kError);
  auto parsed = ParseLedgerLine(line.text);
  if (!parsed.ok()) {
    if (!line.complete) {
      return add_unparsed("torn_line", "the last line (" + std::to_string(line.text.size()) +
                                           " bytes) is incomplete: an append was interrupted; the writer cuts it at its next start",
                          LedgerFindingSeverity::kWarning);
    }
    return add_unparsed("malformed", "not a ledger statement: " + parsed.status().message(), LedgerFindingSeverity::kError);
  }
  const LedgerStatement& s = *parsed;
  Record r;
  r.seq = s.seq;
  r.file = static_cast<uint32_t>(line.file_index);
  r.line = line.line_number;
  LedgerLineHashRaw(line.text, r.hash);
  auto prev = HexDecode(s.prev);
  std::memcpy(r.prev, prev->data(), 32);
  r.kind = s.kind;
  r.start = s.start_unix_seconds;
  r.end = s.end_unix_seconds;
  r.amounts[0] = s.vcpu_delivered_seconds;
  r.amounts[1] = s.vcpu_stolen_seconds;
  r.amounts[2] = s.memory_gib_seconds;
  r.amounts[3] = s.gpu_seconds;
  r.measured = {s.seq, s.availability.samples, s.availability.measured_ratio, s.availability.vcpus,
                s.availability.sampler_cpu_ratio};
  r.time_trusted = s.time_trusted;
  r.torn_bytes = s.torn_bytes;
  r.clean = s.clean;
  if (s.kind == LedgerKind::kRestart) r.reason = strings_.Get(s.reason);
  else if (!s.time_reason.empty()) r.reason = strings_.Get(s.time_reason);
  if (!s.report_digest.empty()) r.report = strings_.Get(s.report_digest);
  if (s.kid != key_.thumbprint()) {
    Add("wrong_key", s.seq, s.seq, &r, Seq(s.seq) + " (" + at + ") names kid " + s.kid + ", not the given key " + key_.thumbprint());
  }
  if (s.is_signed()) {
    Status v = VerifyLedgerSignature(line.text, key_);
    r.sig_ok = v.ok();
    if (r.sig_ok) {
      ++result_.signatures_verified;
    } else {
      Add("bad_signature", s.seq, s.seq, &r,
          std::string(s.kind == LedgerKind::kRestart ? "restart marker " : "checkpoint ") + Seq(s.seq) + " (" + at +
              "): signature does not verify (forged or altered): " + v.message());
    }
  }
  r.out_of_order = s.seq < max_seq_;
  max_seq_ = std::max(max_seq_, s.seq);
  if (!line.complete) {
    Add("torn_line", s.seq, s.seq, &r, Seq(s.seq) + " (" + at + ") lacks its newline: an append was interrupted",
        LedgerFindingSeverity::kWarning);
  }
  records_.push_back(r);
}

Status Auditor::ReadAll() {
  LedgerReader reader(files_);
  LedgerLine line;
  for (;;) {
    RESMETER_ASSIGN_OR_RETURN(bool more, reader.Next(&line));
    if (!more) break;
    ++result_.lines;
    AddLine(line);
  }
  return Status::Ok();
}

// Sorts by seq (stable: file order among equals), drops duplicates and forks,
// finds gaps, reordering and broken links.
void Auditor::OrderedPass() {
  std::vector<uint32_t> order(records_.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return records_[a].seq < records_[b].seq; });
  static const unsigned char kZero[32] = {0};
  for (uint32_t idx : order) {
    Record& r = records_[idx];
    const Record* last = kept_.empty() ? nullptr : &records_[kept_.back()];
    if (last && r.seq == last->seq) {
      if (std::memcmp(r.hash, last->hash, 32) == 0) {
        Add("duplicate", r.seq, r.seq, &r, Seq(r.seq) + " appears again at " + Where(r) + " (first at " + Where(*last) + ")");
      } else if (std::memcmp(r.prev, last->prev, 32) == 0) {
        Add("fork", r.seq, r.seq, &r, "fork at " + Seq(r.seq) + ": " + Where(*last) + " and " + Where(r) +
                                          " are different statements that follow the same predecessor");
      } else {
        Add("conflict", r.seq, r.seq, &r, Seq(r.seq) + " at " + Where(r) + " differs from " + Seq(r.seq) + " at " + Where(*last));
      }
      continue;
    }
    if (r.out_of_order) {
      Add("out_of_order", r.seq, r.seq, &r, Seq(r.seq) + " at " + Where(r) + " comes after a higher seq (reordered)");
    }
    if (!last) {
      if (r.seq == 1) {
        r.link_ok = std::memcmp(r.prev, kZero, 32) == 0;
        if (!r.link_ok) Add("broken_link", 1, 1, &r, "seq 1 (" + Where(r) + ") does not start the chain: its prev is not zero");
      } else {
        Add("partial_ledger", 1, r.seq - 1, &r,
            "the ledger given starts at " + Seq(r.seq) + "; seq 1.." + std::to_string(r.seq - 1) + " were not given",
            LedgerFindingSeverity::kWarning);
      }
    } else if (r.seq > last->seq + 1) {
      Add("missing", last->seq + 1, r.seq - 1, &r, SeqRange(last->seq + 1, r.seq - 1) + " missing (deleted) between " +
                                                        Seq(last->seq) + " and " + Seq(r.seq) + " at " + Where(r));
    } else {
      r.link_ok = std::memcmp(r.prev, last->hash, 32) == 0;
      if (!r.link_ok) {
        Add("broken_link", last->seq, r.seq, last,
            Seq(last->seq) + " (" + Where(*last) + ") does not hash to the prev of " + Seq(r.seq) + ": " + Seq(last->seq) +
                " (or the prev of " + Seq(r.seq) + ") was altered");
      }
    }
    kept_.push_back(idx);
  }
}

// A statement is authenticated when it carries a valid signature or its
// successor links to it and is itself authenticated.
void Auditor::Authenticate() {
  bool auth = false;
  for (size_t k = kept_.size(); k-- > 0;) {
    Record& r = records_[kept_[k]];
    const Record* next = k + 1 < kept_.size() ? &records_[kept_[k + 1]] : nullptr;
    const bool chained = next && next->seq == r.seq + 1 && next->link_ok && auth;
    auth = (r.kind != LedgerKind::kUsage && r.sig_ok) || chained;
    r.authenticated = auth;
    if (auth) ++result_.authenticated_statements;
  }
  for (size_t k = 0; k < kept_.size();) {
    if (records_[kept_[k]].authenticated) { ++k; continue; }
    size_t e = k;
    while (e + 1 < kept_.size() && !records_[kept_[e + 1]].authenticated) ++e;
    const Record& a = records_[kept_[k]];
    const Record& b = records_[kept_[e]];
    if (e + 1 == kept_.size()) {
      Add("unauthenticated_tail", a.seq, b.seq, &a,
          "unauthenticated tail: " + SeqRange(a.seq, b.seq) + " (" + std::to_string(e - k + 1) +
              " statements) after the last valid signature (truncated, or not yet checkpointed); not billed");
    } else {
      Add("unauthenticated", a.seq, b.seq, &a, SeqRange(a.seq, b.seq) + " (" + std::to_string(e - k + 1) +
              " statements) not covered by any valid signature (the chain to the next one is broken); not billed");
    }
    k = e + 1;
  }
}

// Time order, gaps, restart markers, untrusted periods and the bill.
void Auditor::CheckTimeAndBill() {
  const double tol = options_.time_tolerance_seconds;
  const Record* last = nullptr;  // last statement with a period
  for (uint32_t idx : kept_) {
    const Record& r = records_[idx];
    if (r.kind == LedgerKind::kCheckpoint) continue;
    if (last && r.start < last->end - tol) {
      Add("time_backwards", r.seq, r.seq, &r, Seq(r.seq) + " starts at " + std::to_string(r.start) + ", before " +
                                                  Seq(last->seq) + " ended (" + std::to_string(last->end) + ")");
    }
    if (r.kind == LedgerKind::kRestart) {
      if (last && std::fabs(r.start - last->end) > tol) {
        Add("bad_restart", r.seq, r.seq, &r, "restart marker " + Seq(r.seq) + " says the gap starts at " +
                                                 std::to_string(r.start) + " but " + Seq(last->seq) + " ended at " + std::to_string(last->end));
      }
      result_.restarts.push_back({r.seq, r.start, r.end, r.torn_bytes, r.clean, strings_[r.reason]});
      if (r.authenticated) bill_.AddRestartGap(r.start, r.end);
    } else {
      if (last && r.start > last->end + tol) {
        Add("time_gap", last->seq, r.seq, &r, std::to_string(r.start - last->end) + " s between " + Seq(last->seq) + " and " +
                                                  Seq(r.seq) + " with no restart marker");
      }
      if (!r.time_trusted) {
        auto& u = result_.untrusted_periods;
        if (!u.empty() && u.back().last_seq + 1 == r.seq) {
          u.back().last_seq = r.seq;
          u.back().end_unix_seconds = r.end;
        } else {
          u.push_back({r.seq, r.seq, r.start, r.end, strings_[r.reason]});
        }
      }
      if (r.authenticated) {
        std::optional<bool> violated;
        if (options_.policy_violated) {
          LedgerStatement s;
          s.seq = r.seq;
          s.kind = r.kind;
          s.start_unix_seconds = r.start;
          s.end_unix_seconds = r.end;
          s.vcpu_delivered_seconds = r.amounts[0];
          s.vcpu_stolen_seconds = r.amounts[1];
          s.memory_gib_seconds = r.amounts[2];
          s.gpu_seconds = r.amounts[3];
          s.time_trusted = r.time_trusted;
          s.time_reason = strings_[r.reason];
          s.report_digest = strings_[r.report];
          violated = options_.policy_violated(s);
          result_.policy_evaluated = result_.policy_evaluated || violated.has_value();
        }
        bill_.AddUsage(r.start, r.end, r.amounts[0], r.amounts[1], r.amounts[2], r.amounts[3], r.time_trusted, violated,
                       r.measured);
      } else {
        bill_.AddUnauthenticated(r.amounts[0]);
      }
    }
    last = &r;
  }
}

Result<LedgerAuditResult> Auditor::Run() {
  if (files_.empty()) return Status::InvalidArgument("no ledger files given");
  RESMETER_RETURN_IF_ERROR(ReadAll());
  if (records_.empty()) {
    return Status::InvalidArgument("no ledger statement in " + files_.front() + (files_.size() > 1 ? " ..." : ""));
  }
  OrderedPass();
  Authenticate();
  CheckTimeAndBill();
  result_.statements = kept_.size();
  result_.first_seq = records_[kept_.front()].seq;
  result_.last_seq = records_[kept_.back()].seq;
  result_.bill = bill_.Finish();
  return std::move(result_);
}

}  // namespace

Result<LedgerAuditResult> AuditLedger(const std::vector<std::string>& files, const PublicKey& key,
                                      const LedgerAuditOptions& options) {
  Auditor auditor(files, key, options);
  return auditor.Run();
}

}  // namespace resmeter
