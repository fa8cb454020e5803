#include "collector/collector_api.h"

#include <cmath>
#include <sstream>

#include "agent/commands.h"
#include "cli/ledger_output.h"
#include "core/env.h"
#include "core/strings.h"
#include "core/untrusted_json.h"

namespace resmeter {
namespace {

std::optional<std::string> QueryParam(const std::string& query, const std::string& key) {
  for (auto part : Split(query, '&')) {
    const size_t eq = part.find('=');
    if (part.substr(0, eq) == key)
      return std::string(eq == std::string_view::npos ? "" : part.substr(eq + 1));
  }
  return std::nullopt;
}

HttpResponse Json(const nlohmann::json& j) {
  HttpResponse r;
  r.body = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

HttpResponse MethodNotAllowed(const char* allow) {
  HttpResponse r = JsonError(405, std::string("method not allowed; use ") + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

nlohmann::json SnapshotJson(const AgentSnapshot& s) {
  nlohmann::json j = {{"ueid", s.agent.ueid},
                      {"url", s.agent.url},
                      {"source", s.agent.source},
                      {"admitted_kid", s.agent.kid},
                      {"admitted_unix_seconds", s.agent.admitted_unix_seconds},
                      {"followed", true},
                      {"up", s.up},
                      {"condition", s.condition},
                      {"last_contact_unix_seconds", s.last_contact_unix_seconds},
                      {"last_seq", s.last_seq},
                      {"authentic_statements", s.authentic_statements},
                      {"audit_errors", s.audit_errors},
                      {"delivered_vcpu_seconds", s.delivered_vcpu_seconds},
                      {"policy_violation_periods", s.policy_violation_periods},
                      {"forks", s.forks},
                      {"rollbacks", s.rollbacks}};
  j["report_accepted"] = s.report_accepted ? nlohmann::json(*s.report_accepted) : nlohmann::json();
  j["last_verified_report_unix_seconds"] = s.last_verified_report_unix_seconds > 0
                                               ? nlohmann::json(s.last_verified_report_unix_seconds)
                                               : nlohmann::json();
  return j;
}

nlohmann::json AgentJson(const CollectorAgent& a) {
  return {{"ueid", a.ueid},
          {"url", a.url},
          {"source", a.source},
          {"admitted_kid", a.kid},
          {"admitted_unix_seconds", a.admitted_unix_seconds},
          {"followed", false}};
}

// A Prometheus sample line.
void Sample(std::ostringstream& out, const char* name, const std::string& ueid, double value) {
  out << name << "{ueid=\"" << ueid << "\"} ";
  if (std::isfinite(value)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    out << buf;
  } else {
    out << "NaN";
  }
  out << "\n";
}

}  // namespace

Result<LedgerAuditResult> AuditStoredStatements(CollectorStore& store, const CollectorSettings& settings,
                                                const CollectorAgent& agent, std::optional<double> from,
                                                std::optional<double> to, LedgerPolicyAssessor* assessor) {
  LedgerAuditOptions o;
  o.from_unix_seconds = from;
  o.to_unix_seconds = to;
  o.evidence = settings.evidence;
  o.evidence.allow_none = settings.allow_dev_evidence;
  o.accepted_key_origins = settings.accepted_key_origins;
  if (assessor) o.policy_violated = [assessor](const LedgerStatement& s) { return assessor->Assess(s); };
  std::vector<std::string> lines;
  for (uint64_t next = 1;;) {
    RESMETER_ASSIGN_OR_RETURN(auto page, store.StatementLines(agent.id, next, 8192));
    if (page.empty()) break;
    for (auto& [seq, line] : page) lines.push_back(std::move(line));
    next = page.back().first + 1;
  }
  return AuditLedgerLines(lines, "agent " + agent.ueid, o);
}

HttpResponse CollectorApi::Handle(const HttpRequest& req) {
  const std::string& p = req.path;
  if (p == "/metrics") return req.method == "GET" ? Metrics() : MethodNotAllowed("GET");
  if (p == "/v1/agents") {
    if (req.method == "GET") return ListAgents();
    if (req.method == "POST") return AdmitAgent(req);
    return MethodNotAllowed("GET, POST");
  }
  if (StartsWith(p, "/v1/agents/")) {
    if (req.method != "GET") return MethodNotAllowed("GET");
    const std::string rest = p.substr(11);
    const size_t slash = rest.find('/');
    const std::string ueid = rest.substr(0, slash);
    const std::string sub = slash == std::string::npos ? "" : rest.substr(slash);
    auto agent = collector_->store().AgentByUeid(ueid);
    if (!agent.ok()) return JsonError(503, "collector database: " + agent.status().message());
    if (!*agent) return JsonError(404, "no agent with that ueid");
    if (sub.empty()) return Agent(**agent);
    if (sub == "/bill") return Bill(**agent, req);
    if (sub == "/events") return Events(**agent, req);
    return JsonError(404, "no such resource; see /v1/agents/{ueid}, .../bill, .../events");
  }
  if (req.body_too_large) return JsonError(413, "request body too large");
  return JsonError(404, "no such resource; see /v1/agents, /metrics");
}

HttpResponse CollectorApi::Metrics() {
  std::ostringstream out;
  const auto snaps = collector_->Snapshots();
  const double now = DefaultEnv()->WallSeconds();
  struct Family {
    const char* name;
    const char* type;
    const char* help;
  };
  const Family families[] = {
      {"resmeter_collector_agent_up", "gauge",
       "1 when the agent's last exchange with this collector succeeded"},
      {"resmeter_collector_agent_report_age_seconds", "gauge",
       "seconds since the agent's last challenged report that was ACCEPTED"},
      {"resmeter_collector_agent_report_accepted", "gauge",
       "1 when the last challenged report was ACCEPTED, else 0"},
      {"resmeter_collector_agent_delivered_vcpu_seconds_total", "counter",
       "delivered vCPU-seconds billed by the audit of the agent's authentic statements"},
      {"resmeter_collector_agent_policy_violation_periods_total", "counter",
       "billed usage periods that violated the collector's policy"},
      {"resmeter_collector_agent_audit_errors_total", "counter",
       "error findings of the agent's ledger audit"},
      {"resmeter_collector_agent_statements_total", "counter", "authentic statements audited"},
      {"resmeter_collector_agent_forks_total", "counter",
       "pulls that found another version of stored statements"},
      {"resmeter_collector_agent_rollbacks_total", "counter",
       "times the agent's ledger went below the stored head"},
  };
  for (const Family& f : families) {
    out << "# HELP " << f.name << " " << f.help << "\n# TYPE " << f.name << " " << f.type << "\n";
    for (const auto& s : snaps) {
      const std::string& u = s.agent.ueid;
      const std::string n = f.name;
      if (n == "resmeter_collector_agent_up") Sample(out, f.name, u, s.up ? 1 : 0);
      if (n == "resmeter_collector_agent_report_age_seconds" && s.last_verified_report_unix_seconds > 0)
        Sample(out, f.name, u, now - s.last_verified_report_unix_seconds);
      if (n == "resmeter_collector_agent_report_accepted" && s.report_accepted)
        Sample(out, f.name, u, *s.report_accepted ? 1 : 0);
      if (n == "resmeter_collector_agent_delivered_vcpu_seconds_total")
        Sample(out, f.name, u, s.delivered_vcpu_seconds);
      if (n == "resmeter_collector_agent_policy_violation_periods_total")
        Sample(out, f.name, u, static_cast<double>(s.policy_violation_periods));
      if (n == "resmeter_collector_agent_audit_errors_total")
        Sample(out, f.name, u, static_cast<double>(s.audit_errors));
      if (n == "resmeter_collector_agent_statements_total")
        Sample(out, f.name, u, static_cast<double>(s.authentic_statements));
      if (n == "resmeter_collector_agent_forks_total") Sample(out, f.name, u, static_cast<double>(s.forks));
      if (n == "resmeter_collector_agent_rollbacks_total")
        Sample(out, f.name, u, static_cast<double>(s.rollbacks));
    }
  }
  out << "# HELP resmeter_collector_pull_round_seconds seconds the last round of pulls over every followed "
         "agent took\n"
      << "# TYPE resmeter_collector_pull_round_seconds gauge\nresmeter_collector_pull_round_seconds "
      << collector_->last_round_seconds() << "\n";
  out << "# HELP resmeter_collector_agents_followed agents whose lease this collector holds\n"
      << "# TYPE resmeter_collector_agents_followed gauge\nresmeter_collector_agents_followed "
      << snaps.size() << "\n";
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = out.str();
  return r;
}

HttpResponse CollectorApi::ListAgents() {
  auto agents = collector_->store().Agents();
  if (!agents.ok()) return JsonError(503, "collector database: " + agents.status().message());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : *agents) {
    auto snap = collector_->SnapshotOf(a.ueid);
    out.push_back(snap ? SnapshotJson(*snap) : AgentJson(a));
  }
  return Json({{"collector", collector_->settings().name}, {"agents", out}});
}

HttpResponse CollectorApi::AdmitAgent(const HttpRequest& req) {
  if (req.body_too_large) return JsonError(413, "request body too large");
  nlohmann::json body = ParseUntrustedJsonOrDiscarded(req.body);
  if (body.is_discarded() || !body.is_object())
    return JsonError(400, "body must be a JSON object {\"url\": \"http://...\", \"identity\": {...}}");
  if (!body.contains("url") || !body["url"].is_string()) return JsonError(400, "missing string member 'url'");
  if (!body.contains("identity") || !body["identity"].is_object())
    return JsonError(400, "missing object member 'identity' (the agent's identity document)");
  auto admitted = collector_->Admit(body["identity"], body["url"].get<std::string>(), "api");
  if (!admitted.ok()) {
    const auto code = admitted.status().code();
    if (code == Status::Code::kVerifyFailed) return JsonError(403, admitted.status().message());
    if (code == Status::Code::kIOError) return JsonError(503, admitted.status().message());
    return JsonError(400, admitted.status().message());
  }
  HttpResponse r = Json(AgentJson(*admitted));
  r.status = 201;
  return r;
}

HttpResponse CollectorApi::Agent(const CollectorAgent& a) {
  auto snap = collector_->SnapshotOf(a.ueid);
  nlohmann::json j = snap ? SnapshotJson(*snap) : AgentJson(a);
  auto count = collector_->store().CountStatements(a.id);
  auto versions = collector_->store().CountVersions(a.id);
  auto last = collector_->store().LastSeq(a.id);
  if (count.ok()) j["stored_statements"] = *count;
  if (versions.ok()) j["stored_versions"] = *versions;
  if (last.ok()) j["stored_last_seq"] = *last;
  return Json(j);
}

HttpResponse CollectorApi::Bill(const CollectorAgent& a, const HttpRequest& req) {
  std::optional<double> from, to;
  for (auto [key, out] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    auto v = QueryParam(req.query, key);
    if (!v || v->empty()) continue;
    auto t = ParseTimeArgument(*v);
    if (!t.ok()) return JsonError(400, std::string("query '") + key + "': " + t.status().message());
    *out = *t;
  }
  if (from && to && *to <= *from) return JsonError(400, "'to' must be after 'from'");
  const auto format = QueryParam(req.query, "format").value_or("json");
  if (format != "json" && format != "csv") return JsonError(400, "query 'format' must be json or csv");
  const auto& settings = collector_->settings();
  std::unique_ptr<LedgerPolicyAssessor> assessor;
  if (settings.policy) assessor = std::make_unique<LedgerPolicyAssessor>(*settings.policy);
  auto result = AuditStoredStatements(collector_->store(), settings, a, from, to, assessor.get());
  if (!result.ok()) {
    if (result.status().code() == Status::Code::kInvalidArgument)
      return JsonError(404, "no statements stored yet");
    return JsonError(503, "collector database: " + result.status().message());
  }
  HttpResponse r;
  if (format == "csv") {
    std::ostringstream out;
    PrintLedgerBillCsv(out, *result);
    r.content_type = "text/csv";
    r.body = out.str();
    return r;
  }
  nlohmann::json out = LedgerAuditToJson(*result, {"agent " + a.ueid}, assessor.get());
  out.update(LedgerAuditVerdict(*result).ToJson());
  out["ueid"] = a.ueid;
  return Json(out);
}

HttpResponse CollectorApi::Events(const CollectorAgent& a, const HttpRequest& req) {
  size_t limit = 100;
  if (auto l = QueryParam(req.query, "limit")) {
    auto v = ParseUint64(*l);
    if (!v || *v == 0 || *v > 10000) return JsonError(400, "query 'limit' must be 1..10000");
    limit = static_cast<size_t>(*v);
  }
  auto events = collector_->store().Events(a.id, limit);
  if (!events.ok()) return JsonError(503, "collector database: " + events.status().message());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : *events) {
    out.push_back({{"id", e.id},
                   {"at_unix_seconds", e.at_unix_seconds},
                   {"kind", e.kind},
                   {"severity", e.severity},
                   {"seq", e.seq},
                   {"detail", e.detail},
                   {"collector", e.collector}});
  }
  return Json({{"ueid", a.ueid}, {"events", out}});
}

}  // namespace resmeter
