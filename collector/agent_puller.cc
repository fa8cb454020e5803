#include "collector/agent_puller.h"

#include <openssl/rand.h>

#include <algorithm>

#include "core/env.h"
#include "core/strings.h"
#include "core/untrusted_json.h"
#include "report/report_appraisal.h"

namespace resmeter {
namespace {

// Bytes from an agent quoted in an event: printable ASCII, at most 80 characters.
std::string Quote(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + (bytes.size() > 80 ? "..." : "");
}

double Wall() { return DefaultEnv()->WallSeconds(); }

}  // namespace

AgentPuller::AgentPuller(CollectorAgent agent, std::shared_ptr<const CollectorSettings> settings,
                         CollectorStore* store)
    : agent_(std::move(agent)), settings_(std::move(settings)), store_(store) {
  snap_.agent = agent_;
}

LedgerAuditOptions AgentPuller::AuditOptions() {
  LedgerAuditOptions o;
  o.evidence = settings_->evidence;
  o.evidence.allow_none = settings_->allow_dev_evidence;
  o.accepted_key_origins = settings_->accepted_key_origins;
  o.threads = 1;                           // the collector runs many agents at once; each audit on its worker
  o.tsa_anchors = settings_->tsa_anchors;  // the ledger's time axis, as `ledger audit` checks it
  if (settings_->policy) {
    o.accepted_tsas = settings_->policy->require_tsa;
    if (settings_->policy->bracket_tolerance_seconds)
      o.time_bracket_tolerance_seconds = *settings_->policy->bracket_tolerance_seconds;
    assessor_ = std::make_unique<LedgerPolicyAssessor>(*settings_->policy);
    o.policy_violated = [this](const LedgerStatement& s) {
      auto v = assessor_->Assess(s);
      if (v && *v) {
        std::lock_guard<std::mutex> lock(mu_);
        ++snap_.policy_violation_periods;
      }
      return v;
    };
  }
  return o;
}

Status AgentPuller::Load() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    snap_ = AgentSnapshot();
    snap_.agent = agent_;
  }
  auditor_ = std::make_unique<LedgerAuditor>(AuditOptions());
  auditor_->AddSource("agent " + agent_.ueid);
  line_no_ = 0;
  next_seq_ = 1;
  uint64_t stored = 0;
  for (uint64_t from = 1;;) {
    RESMETER_ASSIGN_OR_RETURN(auto page, store_->StatementLines(agent_.id, from, 4096));
    if (page.empty()) break;
    std::vector<LedgerChainLine> batch;
    for (auto& [seq, line] : page) {
      LedgerChainLine l;
      l.text = std::move(line);
      l.line = ++line_no_;
      batch.push_back(std::move(l));
      next_seq_ = std::max(next_seq_, seq + 1);
    }
    stored += batch.size();
    auditor_->Feed(batch);
    from = page.back().first + 1;
  }
  findings_stored_ = auditor_->partial().findings.size();
  errors_seen_ = auditor_->partial().errors;
  std::lock_guard<std::mutex> lock(mu_);
  snap_.loaded = true;
  snap_.last_seq = next_seq_ - 1;
  snap_.statements = stored;
  snap_.authentic_statements = auditor_->partial().authenticated_statements;
  snap_.audit_errors = auditor_->partial().errors;
  snap_.delivered_vcpu_seconds = auditor_->running_totals().delivered_vcpu_hours * 3600;
  return Status::Ok();
}

Status AgentPuller::Event(const std::string& kind, const std::string& severity, uint64_t seq,
                          const std::string& detail) {
  CollectorEvent e;
  e.at_unix_seconds = Wall();
  e.kind = kind;
  e.severity = severity;
  e.seq = seq;
  e.detail = detail;
  e.collector = settings_->name;
  return store_->AddEvent(agent_.id, e);
}

Status AgentPuller::Raise(const std::string& kind, const std::string& detail, bool down) {
  std::string previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = snap_.condition;
    snap_.condition = kind;
    if (down) snap_.up = false;
  }
  if (previous == kind) return Status::Ok();
  return Event(kind, kind == "slow" ? "warning" : "error", 0, detail);
}

Status AgentPuller::Recovered() {
  std::string previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = snap_.condition;
    snap_.condition.clear();
    snap_.up = true;
    snap_.last_contact_unix_seconds = Wall();
  }
  if (previous.empty()) return Status::Ok();
  return Event("recovered", "info", 0, "answers properly again (was: " + previous + ")");
}

Status AgentPuller::StoreNewFindings() {
  const auto& findings = auditor_->partial().findings;
  const double now = Wall();
  for (; findings_stored_ < findings.size(); ++findings_stored_) {
    const LedgerFinding& f = findings[findings_stored_];
    const char* severity = f.severity == LedgerFindingSeverity::kError ? "error" : "warning";
    RESMETER_RETURN_IF_ERROR(
        store_->StoreFinding(agent_.id, f.kind, severity, f.seq, f.seq_end, f.message, now));
    RESMETER_RETURN_IF_ERROR(Event("finding." + f.kind, severity, f.seq, f.message));
  }
  if (auditor_->partial().findings_not_listed > 0 && auditor_->partial().errors > errors_seen_) {
    // Past max_findings only counts are kept: one event per pull says how many more.
    RESMETER_RETURN_IF_ERROR(Event("finding.unlisted", "error", 0,
                                   std::to_string(auditor_->partial().errors - errors_seen_) +
                                       " more audit errors (beyond the listed findings)"));
  }
  errors_seen_ = auditor_->partial().errors;
  return Status::Ok();
}

Status AgentPuller::Pull() {
  if (!auditor_) RESMETER_RETURN_IF_ERROR(Load());
  // After a fork or rollback the next pull re-reads further back; otherwise from the anchor.
  uint64_t from = resync_from_ > 0 ? resync_from_ : (next_seq_ > 1 ? next_seq_ - 1 : 1);
  resync_from_ = 0;
  bool slow = false;
  for (size_t page = 0; page < settings_->max_pages_per_pull; ++page) {
    auto resp =
        HttpFetch(agent_.url, "GET", "/v1/ledger?from=" + std::to_string(from), "", "", settings_->fetch);
    if (!resp.ok()) {
      const auto code = resp.status().code();
      if (code == Status::Code::kDeadlineExceeded)
        return Raise("slow", "GET /v1/ledger: " + resp.status().message() + " (deadline " +
                                 std::to_string(settings_->fetch.deadline_seconds) + " s)");
      if (code == Status::Code::kCorruption)
        return Raise("bad_response", "GET /v1/ledger: " + resp.status().message());
      if (code == Status::Code::kVerifyFailed)
        return Raise("tls", "GET /v1/ledger: " + resp.status().message());
      return Raise("unreachable", "GET /v1/ledger: " + resp.status().message());
    }
    if (resp->status == 429 || resp->status == 503) break;  // the agent's rate limit: try at the next pull
    if (resp->status != 200)
      return Raise("bad_response", "GET /v1/ledger answered HTTP " + std::to_string(resp->status));
    if (resp->content_type != "application/jsonl")
      return Raise("bad_response", "GET /v1/ledger answered content type '" + Quote(resp->content_type) +
                                       "', not application/jsonl");
    if (resp->elapsed_seconds > settings_->slow_seconds) {
      slow = true;
      RESMETER_RETURN_IF_ERROR(Raise(
          "slow", "GET /v1/ledger took " + std::to_string(resp->elapsed_seconds) + " s", /*down=*/false));
    }
    bool got_new = false, bad = false;
    RESMETER_RETURN_IF_ERROR(Ingest(resp->body, from, &got_new, &bad));
    if (bad) return Status::Ok();  // raised by Ingest; only a good answer clears it
    if (!got_new) break;
    from = next_seq_;
  }
  if (!slow) return Recovered();
  std::lock_guard<std::mutex> lock(mu_);
  snap_.up = true;
  snap_.last_contact_unix_seconds = Wall();
  return Status::Ok();
}

Status AgentPuller::Ingest(const std::string& body, uint64_t from, bool* got_new, bool* bad) {
  *got_new = false;
  *bad = false;
  // Complete lines only; each must be a ledger statement (its seq decides where it goes).
  struct Pulled {
    uint64_t seq;
    std::string line;
    LedgerStatement statement;
  };
  std::vector<Pulled> pulled;
  size_t pos = 0;
  std::string garbage;
  while (pos < body.size()) {
    const size_t nl = body.find('\n', pos);
    if (nl == std::string::npos) {
      garbage = "the answer ends without a newline: " + Quote(std::string_view(body).substr(pos));
      break;
    }
    std::string_view line(body.data() + pos, nl - pos);
    pos = nl + 1;
    if (line.size() > kMaxLedgerLineBytes) {
      garbage = "a line of " + std::to_string(line.size()) + " bytes (limit " +
                std::to_string(kMaxLedgerLineBytes) + ")";
      break;
    }
    auto parsed = ParseLedgerLine(line);
    if (!parsed.ok()) {
      garbage = "line " + std::to_string(pulled.size() + 1) + " is not a ledger statement (" +
                Quote(parsed.status().message()) + "): " + Quote(line);
      break;
    }
    if (parsed->seq < from) {
      garbage = "seq " + std::to_string(parsed->seq) + " answers a request from seq " + std::to_string(from);
      break;
    }
    pulled.push_back({parsed->seq, std::string(line), std::move(*parsed)});
  }
  const bool anchored = next_seq_ > 1 && from == next_seq_ - 1;
  if (anchored && garbage.empty()) {
    const uint64_t head = next_seq_ - 1;
    if (pulled.empty() || pulled.front().seq != head) {
      if (rollback_at_ != head) {
        rollback_at_ = head;
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++snap_.rollbacks;
        }
        RESMETER_RETURN_IF_ERROR(
            Event("rollback", "error", head,
                  pulled.empty() ? "the agent serves nothing at or after stored seq " + std::to_string(head) +
                                       ": its ledger went back (restored from a snapshot?)"
                                 : "the agent's first statement from seq " + std::to_string(head) +
                                       " is seq " + std::to_string(pulled.front().seq) + ": stored seq " +
                                       std::to_string(head) + " is gone from its ledger"));
      }
      resync_from_ = head > settings_->resync_window ? head - settings_->resync_window : 1;
    } else {
      rollback_at_ = 0;
    }
  }
  // Statements at stored seqs: the same again (idempotent), or another version (a fork).
  std::vector<StatementRecord> old_records, new_records;
  auto record = [](const Pulled& p) {
    StatementRecord r;
    r.seq = p.seq;
    r.line = p.line;
    r.line_sha256 = LedgerLineHash(p.line);
    r.kind = LedgerKindName(p.statement.kind);
    r.kid = p.statement.kid;
    r.start_unix_seconds = p.statement.start_unix_seconds;
    r.end_unix_seconds = p.statement.end_unix_seconds;
    r.vcpu_delivered_seconds = p.statement.vcpu_delivered_seconds;
    r.vcpu_stolen_seconds = p.statement.vcpu_stolen_seconds;
    r.memory_gib_seconds = p.statement.memory_gib_seconds;
    r.gpu_seconds = p.statement.gpu_seconds;
    r.time_trusted = p.statement.time_trusted;
    return r;
  };
  std::vector<LedgerChainLine> batch;
  uint64_t expect = next_seq_;
  for (const Pulled& p : pulled) {
    if (p.seq < next_seq_) {
      old_records.push_back(record(p));
      continue;
    }
    // New statements go to the audit in the agent's order; a seq going back
    // inside one answer is the audit's out_of_order finding, stored once.
    new_records.push_back(record(p));
    LedgerChainLine l;
    l.text = p.line;
    l.line = ++line_no_;
    batch.push_back(std::move(l));
    expect = std::max(expect, p.seq + 1);
  }
  const double now = Wall();
  if (!old_records.empty()) {
    RESMETER_ASSIGN_OR_RETURN(auto outcomes, store_->StoreStatements(agent_.id, old_records, now));
    uint64_t first = 0, last = 0, count = 0;
    for (size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i] != StatementIngest::kNewVersion) continue;
      if (count++ == 0) first = old_records[i].seq;
      last = old_records[i].seq;
    }
    if (count > 0) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++snap_.forks;
      }
      RESMETER_RETURN_IF_ERROR(Event("fork", "error", first,
                                     std::to_string(count) + " statement" + (count == 1 ? "" : "s") +
                                         " at seq " + std::to_string(first) +
                                         (last != first ? ".." + std::to_string(last) : "") +
                                         " differ from the stored ones (both versions kept)"));
      // Read back further: the two histories may part earlier than the anchor.
      if (!resync_from_ && from == next_seq_ - 1)
        resync_from_ = first > settings_->resync_window ? first - settings_->resync_window : 1;
    }
  }
  if (!batch.empty()) {
    size_t i = 0;
    const size_t epochs_before = auditor_->partial().epochs.size();
    auditor_->Feed(batch, [&](const LedgerChainLine&, const LedgerChainStep& st) {
      if (i < new_records.size()) new_records[i++].chain_verdict = LedgerLineVerdictName(st.verdict);
    });
    RESMETER_ASSIGN_OR_RETURN(auto outcomes, store_->StoreStatements(agent_.id, new_records, now));
    uint64_t stored = 0;
    for (auto o : outcomes) stored += o == StatementIngest::kStored;
    const auto& epochs = auditor_->partial().epochs;
    for (size_t e = epochs_before; e < epochs.size(); ++e) {
      RESMETER_RETURN_IF_ERROR(store_->StoreEpoch(
          agent_.id, {epochs[e].seq, epochs[e].kid, epochs[e].key_origin, epochs[e].evidence_type,
                      epochs[e].evidence_detail, epochs[e].evidence_ok}));
    }
    RESMETER_RETURN_IF_ERROR(StoreNewFindings());
    next_seq_ = expect;
    *got_new = true;
    std::lock_guard<std::mutex> lock(mu_);
    snap_.statements += stored;
    snap_.last_seq = next_seq_ - 1;
    snap_.authentic_statements = auditor_->partial().authenticated_statements;
    snap_.audit_errors = auditor_->partial().errors;
    snap_.delivered_vcpu_seconds = auditor_->running_totals().delivered_vcpu_hours * 3600;
  }
  if (!garbage.empty()) {
    *bad = true;
    return Raise("bad_response", "GET /v1/ledger: " + garbage);
  }
  return Status::Ok();
}

Status AgentPuller::Challenge() {
  if (!auditor_) RESMETER_RETURN_IF_ERROR(Load());
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::IOError("RAND_bytes failed");
  const std::string nonce = HexEncode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  nlohmann::json req = {{"nonce", nonce}};
  auto resp = HttpFetch(agent_.url, "POST", "/v1/attest", req.dump(), "application/json", settings_->fetch);
  if (!resp.ok()) {
    const auto code = resp.status().code();
    if (code == Status::Code::kDeadlineExceeded)
      return Raise("slow", "POST /v1/attest: " + resp.status().message());
    if (code == Status::Code::kCorruption)
      return Raise("bad_response", "POST /v1/attest: " + resp.status().message());
    if (code == Status::Code::kVerifyFailed)
      return Raise("tls", "POST /v1/attest: " + resp.status().message());
    return Raise("unreachable", "POST /v1/attest: " + resp.status().message());
  }
  if (resp->status == 429 || resp->status == 503) return Status::Ok();  // busy: the next challenge
  if (resp->status != 200)
    return Raise("bad_response", "POST /v1/attest answered HTTP " + std::to_string(resp->status));
  if (resp->content_type != "application/jose")
    return Raise("bad_response", "POST /v1/attest answered content type '" + Quote(resp->content_type) +
                                     "', not application/jose");
  AppraisalInputs in;
  in.expected_nonce_hex = nonce;
  in.policy = settings_->policy ? &*settings_->policy : nullptr;
  in.now_unix_seconds = Wall();
  in.evidence = settings_->evidence;
  in.tsa_anchors = settings_->tsa_anchors;
  in.allow_dev_evidence = settings_->allow_dev_evidence;
  in.allow_fixture_roots = settings_->allow_fixture_roots;
  std::string token = resp->body;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  ReportAppraisal appraisal = AppraiseReportDetailed(token, in);
  Verdict verdict = appraisal.verdict;
  const std::string kid = appraisal.key ? appraisal.key->thumbprint() : "";
  const auto& epochs = auditor_->chain().epochs();
  if (!epochs.empty() && !kid.empty()) {
    const bool known = std::any_of(epochs.begin(), epochs.end(), [&](const auto& e) { return e.kid == kid; });
    verdict.Add("collector.epoch_key", known ? CheckOutcome::kPassed : CheckOutcome::kFailed,
                known ? "kid " + kid + " is an epoch key of the agent's audited ledger"
                      : "kid " + kid + " is none of the " + std::to_string(epochs.size()) +
                            " epoch keys of the agent's audited ledger");
  }
  const bool accepted = verdict.accepted();
  const double now = Wall();
  ReportRecord rec;
  rec.observed_unix_seconds = now;
  rec.nonce = nonce;
  rec.token = token.size() <= settings_->fetch.max_response_bytes ? token : "";
  rec.verdict_line = verdict.Line();
  rec.kid = kid;
  rec.accepted = accepted;
  RESMETER_RETURN_IF_ERROR(store_->StoreReport(agent_.id, rec));
  std::optional<bool> before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    before = snap_.report_accepted;
    snap_.report_accepted = accepted;
    if (accepted) snap_.last_verified_report_unix_seconds = now;
  }
  if (!before || *before != accepted)
    RESMETER_RETURN_IF_ERROR(Event("verdict", accepted ? "info" : "error", 0, rec.verdict_line));
  // Conditions are cleared by a good pull only (a garbage ledger must not flap with good reports).
  std::lock_guard<std::mutex> lock(mu_);
  snap_.last_contact_unix_seconds = now;
  return Status::Ok();
}

AgentSnapshot AgentPuller::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snap_;
}

}  // namespace resmeter
