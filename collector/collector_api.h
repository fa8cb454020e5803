// CollectorApi: the collector's HTTP routes (served by the agent's
// HttpServer, with the same TLS and basic-auth web config).
//
//   GET  /metrics                       fleet series, verified data only (below)
//   GET  /v1/agents                     the agents this collector knows, with state
//   POST /v1/agents                     {"url": "http://...", "identity": {identity document}}:
//                                       admitted when its evidence verifies under the policy
//   GET  /v1/agents/{ueid}              one agent: state, stored statements and versions
//   GET  /v1/agents/{ueid}/bill?from=&to=[&format=csv]
//                                       the bill `ledger audit` computes over the stored
//                                       statements (the same code: AuditLedgerLines)
//   GET  /v1/agents/{ueid}/events[?limit=N]  newest first
//
// Metrics, one series per followed agent, label ueid (from a verified identity):
//   resmeter_collector_agent_up, ..._report_age_seconds (since the last ACCEPTED
//   challenge; absent before one), ..._report_accepted, ..._delivered_vcpu_seconds_total
//   (billed by the audit), ..._policy_violation_periods_total, ..._audit_errors_total,
//   ..._statements_total, ..._forks_total, ..._rollbacks_total.
// Errors are JSON {"error": {"code", "message"}}. Thread-safe.
#pragma once

#include "agent/http_server.h"
#include "collector/collector.h"

namespace resmeter {

class CollectorApi {
 public:
  explicit CollectorApi(Collector* collector) : collector_(collector) {}
  HttpResponse Handle(const HttpRequest& req);

 private:
  HttpResponse Metrics();
  HttpResponse ListAgents();
  HttpResponse AdmitAgent(const HttpRequest& req);
  HttpResponse Agent(const CollectorAgent& a);
  HttpResponse Bill(const CollectorAgent& a, const HttpRequest& req);
  HttpResponse Events(const CollectorAgent& a, const HttpRequest& req);

  Collector* collector_;
};

// The audit of an agent's stored statements, as the bill endpoint computes
// it; `from`/`to` clip the bill as ledger audit's --from/--to.
Result<LedgerAuditResult> AuditStoredStatements(CollectorStore& store, const CollectorSettings& settings,
                                                const CollectorAgent& agent, std::optional<double> from,
                                                std::optional<double> to, LedgerPolicyAssessor* assessor);

}  // namespace resmeter
