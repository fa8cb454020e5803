// HttpApi: the routes of the agent's HTTP server.
//
//   GET  /metrics            Prometheus text or OpenMetrics by the Accept header,
//                            gzip by Accept-Encoding (agent/metrics_exposition.h)
//   GET  /v1/identity        {kid, alg, ueid, jwk, swname, swversion, iat, evidence}
//   GET  /v1/report/latest   the latest scheduled report, JWS compact (application/jose)
//   POST /v1/attest          body {"nonce": "HEX"[, "heavy": ["disk.io", ...]]}: a
//                            fresh report bound to the nonce (application/jose), the
//                            named heavy meters run anew for it; rate-limited
//   GET  /v1/ledger?from=SEQ usage ledger statements with seq >= SEQ, JSON Lines
//
// Every error is JSON {"error": {"code": N, "message": "..."}} with a 4xx/5xx
// status: 400 bad JSON/nonce/query or unknown heavy meter, 403 heavy
// attestations disallowed (agent.attest.allow_heavy) or the meter disabled,
// 404 unknown path, 405 wrong method (with Allow), 413 body too large, 429
// rate-limited (api.attest_rate_per_minute, and agent.attest.heavy_per_hour
// for heavy ones; api.ledger_rate_per_minute for /v1/ledger) and 503 busy
// (both with Retry-After). Nothing from a
// request becomes a metric label: the handler label is one of a fixed set.
//
// Thread-safe: Handle runs on several HTTP worker threads at once.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/agent_state.h"
#include "agent/config.h"
#include "agent/http_server.h"
#include "agent/metrics_exporter.h"
#include "agent/rate_limiter.h"
#include "core/env.h"

namespace resmeter {

class HttpApi {
 public:
  // Serves a challenge (Scheduler::Attest in the agent): `heavy_meters` are
  // the heavy meters to run anew, already checked (Scheduler::CheckOnDemandHeavy).
  using AttestFn = std::function<Result<SignedReport>(
      const std::string& nonce_hex, const std::vector<std::string>& heavy_meters, double wait_seconds)>;
  // Returns up to max_lines ledger lines with seq >= from, each ending in a
  // newline. NotFound when the ledger is disabled or absent.
  using LedgerFn = std::function<Result<std::string>(uint64_t from, size_t max_lines)>;

  struct Deps {
    AgentState* state = nullptr;
    MetricsExporter* exporter = nullptr;
    Env* env = nullptr;
    AttestFn attest;
    LedgerFn ledger;  // may be empty: /v1/ledger answers 404
  };

  HttpApi(Deps deps, std::shared_ptr<const Config> config);
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Answers one request and counts it in the exporter.
  HttpResponse Handle(const HttpRequest& req);
  // Uses `config` for later requests (rate limit, attest options, ledger page size).
  void UpdateConfig(std::shared_ptr<const Config> config);

 private:
  HttpResponse Route(const HttpRequest& req, std::string* handler);
  HttpResponse Metrics(const HttpRequest& req) const;
  HttpResponse Identity() const;
  HttpResponse LatestReport() const;
  HttpResponse Attest(const HttpRequest& req);
  HttpResponse Ledger(const HttpRequest& req);
  std::shared_ptr<const Config> config() const;

  Deps deps_;
  mutable std::mutex mu_;
  std::shared_ptr<const Config> config_;
  RateLimiter limiter_;
  RateLimiter heavy_limiter_;            // agent.attest.heavy_per_hour, one at a time
  PerClientRateLimiter client_limiter_;  // per user or remote address, taken before limiter_
  RateLimiter ledger_limiter_;           // api.ledger_rate_per_minute, GET /v1/ledger
};

}  // namespace resmeter
