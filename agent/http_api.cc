#include "core/untrusted_json.h"
#include "agent/http_api.h"

#include <algorithm>
#include <cmath>

#include "agent/scheduler.h"
#include "core/strings.h"
#include "core/version.h"
#include "jose/key_origin.h"
#include "report/report.h"

namespace resmeter {
namespace {

constexpr const char* kJose = "application/jose";

HttpResponse MethodNotAllowed(const char* allow) {
  HttpResponse r = JsonError(405, std::string("method not allowed; use ") + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

HttpResponse WithRetryAfter(HttpResponse r, double seconds) {
  r.headers.emplace_back("Retry-After", std::to_string(static_cast<long>(std::ceil(std::max(1.0, seconds)))));
  return r;
}

// The value of `key` in a query string "a=1&b=2", if present.
std::optional<std::string> QueryParam(const std::string& query, const std::string& key) {
  for (auto part : Split(query, '&')) {
    const size_t eq = part.find('=');
    if (part.substr(0, eq) == key)
      return std::string(eq == std::string_view::npos ? "" : part.substr(eq + 1));
  }
  return std::nullopt;
}

// A signed report as the body (application/jose) with its digest in a header.
HttpResponse ReportResponse(const SignedReport& report) {
  HttpResponse r;
  r.content_type = kJose;
  r.body = report.token;
  r.headers.emplace_back("X-Report-Digest", "sha-256=" + report.digest_hex);
  return r;
}

}  // namespace

HttpApi::HttpApi(Deps deps, std::shared_ptr<const Config> config)
    : deps_(std::move(deps)),
      config_(std::move(config)),
      limiter_(config_->global.Double("api.attest_rate_per_minute"),
               static_cast<double>(config_->global.Int("api.attest_burst"))),
      heavy_limiter_(config_->global.Double("agent.attest.heavy_per_hour") / 60.0, 1.0),
      client_limiter_(config_->global.Double("api.attest_client_rate_per_minute"),
                      static_cast<double>(config_->global.Int("api.attest_client_burst"))),
      ledger_limiter_(config_->global.Double("api.ledger_rate_per_minute"),
                      static_cast<double>(config_->global.Int("api.ledger_burst"))) {}

void HttpApi::UpdateConfig(std::shared_ptr<const Config> config) {
  limiter_.Reconfigure(config->global.Double("api.attest_rate_per_minute"),
                       static_cast<double>(config->global.Int("api.attest_burst")));
  heavy_limiter_.Reconfigure(config->global.Double("agent.attest.heavy_per_hour") / 60.0, 1.0);
  client_limiter_.Reconfigure(config->global.Double("api.attest_client_rate_per_minute"),
                              static_cast<double>(config->global.Int("api.attest_client_burst")));
  ledger_limiter_.Reconfigure(config->global.Double("api.ledger_rate_per_minute"),
                              static_cast<double>(config->global.Int("api.ledger_burst")));
  std::lock_guard<std::mutex> lock(mu_);
  config_ = std::move(config);
}

std::shared_ptr<const Config> HttpApi::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

HttpResponse HttpApi::Handle(const HttpRequest& req) {
  const double t0 = deps_.env->MonotonicSeconds();
  std::string handler = "other";
  HttpResponse resp = Route(req, &handler);
  deps_.exporter->ObserveRequest(handler, resp.status, deps_.env->MonotonicSeconds() - t0);
  return resp;
}

HttpResponse HttpApi::Route(const HttpRequest& req, std::string* handler) {
  const std::string& p = req.path;
  const bool get = req.method == "GET";
  if (p == "/metrics") {
    *handler = "metrics";
    if (!get) return MethodNotAllowed("GET");
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = deps_.exporter->Render();
    return r;
  }
  if (p == "/v1/identity") {
    *handler = "identity";
    return get ? Identity() : MethodNotAllowed("GET");
  }
  if (p == "/v1/report/latest") {
    *handler = "report_latest";
    return get ? LatestReport() : MethodNotAllowed("GET");
  }
  if (p == "/v1/attest") {
    *handler = "attest";
    return req.method == "POST" ? Attest(req) : MethodNotAllowed("POST");
  }
  if (p == "/v1/ledger") {
    *handler = "ledger";
    return get ? Ledger(req) : MethodNotAllowed("GET");
  }
  if (req.body_too_large) return JsonError(413, "request body too large");
  return JsonError(404,
                   "no such resource; see /v1/identity, /v1/report/latest, /v1/attest, /v1/ledger, /metrics");
}

HttpResponse HttpApi::Identity() const {
  const AgentIdentity& id = deps_.state->identity();
  nlohmann::ordered_json doc;
  doc["kid"] = id.kid;
  doc["alg"] = id.alg;
  doc["ueid"] = id.ueid;
  doc["jwk"] = id.jwk;
  doc["key_origin"] = std::string(kKeyOriginEphemeral);  // agent keys are generated in memory at each start
  doc["swname"] = SoftwareName();
  doc["swversion"] = SoftwareVersion();
  doc["iat"] = static_cast<int64_t>(deps_.state->started_unix_seconds());
  doc["evidence"] = id.evidence;
  HttpResponse r;
  r.body = doc.dump(2) + "\n";
  return r;
}

HttpResponse HttpApi::LatestReport() const {
  auto report = deps_.state->LatestReport();
  if (!report)
    return WithRetryAfter(JsonError(503, "no report yet: the first light cycle is still running"), 5);
  return ReportResponse(*report);
}

HttpResponse HttpApi::Attest(const HttpRequest& req) {
  const double now = deps_.env->WallSeconds();
  auto reject = [&](int status, const std::string& msg) {
    deps_.state->RecordAttest("rejected", now);
    return JsonError(status, msg);
  };
  if (req.body_too_large) {
    return reject(413, "request body larger than api.max_body_bytes (" +
                           std::to_string(config()->global.Int("api.max_body_bytes")) + ")");
  }
  nlohmann::json body = ParseUntrustedJsonOrDiscarded(req.body);
  if (body.is_discarded() || !body.is_object())
    return reject(400, "body must be a JSON object {\"nonce\": \"HEX\"}");
  if (!body.contains("nonce") || !body["nonce"].is_string())
    return reject(400, "missing string member 'nonce'");
  auto nonce = NormalizeNonceHex(body["nonce"].get<std::string>());
  if (!nonce.ok()) return reject(400, nonce.status().message());
  for (const auto& [key, value] : body.items()) {
    if (key != "nonce" && key != "heavy") return reject(400, "unknown member '" + key.substr(0, 64) + "'");
  }
  auto cfg = config();
  std::vector<std::string> heavy;
  if (body.contains("heavy")) {
    nlohmann::json h = body["heavy"];
    if (h.is_boolean()) {  // true: every enabled heavy meter
      const bool all = h.get<bool>();
      h = nlohmann::json::array();
      for (const MeterInfo& m : MeterRegistry()) {
        if (all && m.kind == MeterKind::kHeavy && cfg->Meter(m.name).Bool("enabled")) h.push_back(m.name);
      }
    }
    if (!h.is_array() || h.size() > MeterRegistry().size()) {
      return reject(400,
                    "'heavy' must be an array of heavy meter names, e.g. [\"disk.io\"], or true for all");
    }
    for (const auto& name : h) {
      if (!name.is_string()) return reject(400, "'heavy' must be an array of heavy meter names");
      const std::string n = name.get<std::string>();
      if (std::find(heavy.begin(), heavy.end(), n) != heavy.end()) continue;
      Status ok = Scheduler::CheckOnDemandHeavy(*cfg, n);
      if (!ok.ok()) return reject(ok.code() == Status::Code::kPermissionDenied ? 403 : 400, ok.message());
      heavy.push_back(n);
    }
  }
  if (!heavy.empty() && !cfg->global.Bool("agent.attest.allow_heavy")) {
    return reject(403, "heavy attestations are disabled on this agent (agent.attest.allow_heavy: false)");
  }
  double retry_after = 0;
  // The client's own bucket first, so a client over its share never drains the global one.
  const std::string client = req.user.empty() ? "addr:" + req.remote_addr : "user:" + req.user;
  if (!client_limiter_.TryAcquire(client, deps_.env->MonotonicSeconds(), &retry_after) ||
      !limiter_.TryAcquire(deps_.env->MonotonicSeconds(), &retry_after)) {
    deps_.state->RecordAttest("rate_limited", now);
    return WithRetryAfter(JsonError(429, "too many attestation requests (api.attest_rate_per_minute)"),
                          retry_after);
  }
  if (!heavy.empty() && !heavy_limiter_.TryAcquire(deps_.env->MonotonicSeconds(), &retry_after)) {
    deps_.state->RecordAttest("rate_limited", now);
    return WithRetryAfter(JsonError(429, "too many heavy attestations (agent.attest.heavy_per_hour)"),
                          retry_after);
  }
  auto report = deps_.attest(*nonce, heavy, cfg->global.Double("api.attest_wait_seconds"));
  if (!report.ok()) {
    const bool busy = report.status().code() == Status::Code::kDeadlineExceeded ||
                      report.status().code() == Status::Code::kCancelled;
    deps_.state->RecordAttest(busy ? "busy" : "failed", now);
    if (busy) return WithRetryAfter(JsonError(503, report.status().message()), 10);
    if (report.status().code() == Status::Code::kInvalidArgument)
      return JsonError(400, report.status().message());
    if (report.status().code() == Status::Code::kPermissionDenied)
      return JsonError(403, report.status().message());
    return JsonError(500, "attestation failed: " + report.status().message());
  }
  deps_.state->RecordAttest("ok", deps_.env->WallSeconds());
  return ReportResponse(*report);
}

HttpResponse HttpApi::Ledger(const HttpRequest& req) {
  uint64_t from = 0;
  if (auto f = QueryParam(req.query, "from")) {
    auto v = ParseUint64(*f);
    if (!v) return JsonError(400, "query 'from' must be a sequence number (unsigned integer)");
    from = *v;
  }
  if (!deps_.ledger) return JsonError(404, "the usage ledger is disabled (ledger.enabled: false)");
  double retry_after = 0;
  if (!ledger_limiter_.TryAcquire(deps_.env->MonotonicSeconds(), &retry_after))
    return WithRetryAfter(JsonError(429, "too many ledger requests (api.ledger_rate_per_minute)"),
                          retry_after);
  const size_t max_lines = static_cast<size_t>(config()->global.Int("api.ledger_max_lines"));
  auto lines = deps_.ledger(from, max_lines);
  if (!lines.ok()) {
    if (lines.status().code() == Status::Code::kNotFound) return JsonError(404, lines.status().message());
    return JsonError(500, "cannot read the ledger: " + lines.status().message());
  }
  HttpResponse r;
  r.content_type = "application/jsonl";
  r.body = std::move(*lines);
  return r;
}

}  // namespace resmeter
