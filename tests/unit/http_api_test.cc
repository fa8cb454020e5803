// HttpApi routing, errors and limits without sockets; the exporter's names
// and label bounds. The HTTP server itself is exercised by the integration
// tests.
#include "agent/http_api.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/strings.h"
#include "test_env.h"

namespace resmeter {
namespace {

struct Fixture {
  SnapshotEnv env{{{0, "/"}}};
  AgentState state{AgentIdentity{"kid123", "EdDSA", "ueid456", {{"kty", "OKP"}}, {{"type", "none"}}}, 1.7e9};
  MetricsExporter exporter{&state};
  int attests = 0;
  std::vector<std::string> last_heavy;  // the heavy meters of the last attest call
  Status attest_status = Status::Ok();
  std::unique_ptr<HttpApi> api;

  explicit Fixture(Config config = DefaultConfig()) {
    HttpApi::Deps d;
    d.state = &state;
    d.exporter = &exporter;
    d.env = &env;
    d.attest = [this](const std::string& nonce, const std::vector<std::string>& heavy,
                      double) -> Result<SignedReport> {
      ++attests;
      last_heavy = heavy;
      if (!attest_status.ok()) return attest_status;
      SignedReport r;
      r.token = "header.payload-" + nonce + ".sig";
      r.digest_hex = "00";
      return r;
    };
    d.ledger = [](uint64_t from, size_t max) -> Result<std::string> {
      std::string out;
      for (uint64_t s = from; s < from + max && s < 5; ++s) out += "{\"seq\":" + std::to_string(s) + "}\n";
      return out;
    };
    api = std::make_unique<HttpApi>(d, std::make_shared<const Config>(std::move(config)));
  }
  HttpResponse Do(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::string& query = "") {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.query = query;
    return api->Handle(r);
  }
};

// The error message of a JSON error response ("" when not one).
std::string ErrorOf(const HttpResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("error")) return "";
  EXPECT_EQ(j["error"]["code"], r.status);
  return j["error"]["message"];
}

TEST(http_api_test, unknown_path_wrong_method_and_bad_bodies_are_json_4xx) {
  Fixture f;
  auto r = f.Do("GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(ErrorOf(r), "");
  r = f.Do("POST", "/metrics");
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(f.Do("GET", "/v1/attest").status, 405);
  EXPECT_EQ(f.Do("POST", "/v1/attest", "{not json").status, 400);
  EXPECT_EQ(f.Do("POST", "/v1/attest", "[]").status, 400);
  EXPECT_EQ(f.Do("POST", "/v1/attest", R"({"nonce": 5})").status, 400);
  EXPECT_EQ(f.Do("POST", "/v1/attest", R"({"nonce": "xyz"})").status, 400);
  EXPECT_EQ(f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef", "extra": 1})").status, 400);
  EXPECT_EQ(f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef", "heavy": "disk.io"})").status, 400);
  EXPECT_EQ(f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef", "heavy": [5]})").status, 400);
  HttpRequest big;
  big.method = "POST";
  big.path = "/v1/attest";
  big.body_too_large = true;
  r = f.api->Handle(big);
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(ErrorOf(r).find("api.max_body_bytes"), std::string::npos);
  EXPECT_EQ(f.attests, 0);
}

TEST(http_api_test, attest_returns_the_token_and_is_rate_limited) {
  Config c = DefaultConfig();
  c.global.Set("api.attest_burst", 2);
  c.global.Set("api.attest_rate_per_minute", 1.0);
  Fixture f(c);
  auto r = f.Do("POST", "/v1/attest", R"({"nonce": "0123456789ABCDEF"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/jose");
  EXPECT_EQ(r.body, "header.payload-0123456789abcdef.sig");
  EXPECT_EQ(f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef"})").status, 200);
  r = f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef"})");
  EXPECT_EQ(r.status, 429);
  ASSERT_FALSE(r.headers.empty());
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_EQ(r.headers[0].second, "60");
  EXPECT_EQ(f.attests, 2);
  const AttestCounts counts = f.state.Attests();
  EXPECT_EQ(counts.ok, 2u);
  EXPECT_EQ(counts.rate_limited, 1u);
}

TEST(http_api_test, heavy_on_demand_runs_named_meters_with_its_own_limit) {
  Fixture f;
  auto r = f.Do("POST", "/v1/attest",
                R"({"nonce": "0123456789abcdef", "heavy": ["disk.io", "memory.bandwidth"]})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(f.last_heavy, (std::vector<std::string>{"disk.io", "memory.bandwidth"}));
  // agent.attest.heavy_per_hour (4): one at a time, the next in 15 minutes.
  r = f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef", "heavy": ["disk.io"]})");
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(ErrorOf(r).find("agent.attest.heavy_per_hour"), std::string::npos);
  ASSERT_FALSE(r.headers.empty());
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_NEAR(std::stod(r.headers[0].second), 900, 1);
  // Attestations that reuse the latest runs are not held back by it.
  EXPECT_EQ(f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef"})").status, 200);
  EXPECT_TRUE(f.last_heavy.empty());
  EXPECT_EQ(f.attests, 2);
}

TEST(http_api_test, heavy_on_demand_rejects_unknown_light_and_disabled_meters) {
  Config c = DefaultConfig();
  c.meters["disk.io"].Set("enabled", false);
  Fixture f(c);
  auto r = f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef", "heavy": ["disk.speed"]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorOf(r), "unknown meter 'disk.speed'");
  EXPECT_EQ(r.body.find('\n'), r.body.size() - 1) << "one line of JSON";
  r = f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef", "heavy": ["cpu.time"]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(ErrorOf(r).find("light meter"), std::string::npos);
  r = f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef", "heavy": ["disk.io"]})");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(ErrorOf(r).find("meters.disk.io.enabled"), std::string::npos);
  // true: every enabled heavy meter (disk.io is not).
  EXPECT_EQ(f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef", "heavy": true})").status, 200);
  EXPECT_FALSE(f.last_heavy.empty());
  EXPECT_EQ(std::count(f.last_heavy.begin(), f.last_heavy.end(), "disk.io"), 0);
  EXPECT_EQ(f.attests, 1);
}

TEST(http_api_test, heavy_on_demand_is_403_when_the_provider_disallows_it) {
  Config c = DefaultConfig();
  c.global.Set("agent.attest.allow_heavy", false);
  Fixture f(c);
  auto r = f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef", "heavy": ["disk.io"]})");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(ErrorOf(r).find("agent.attest.allow_heavy"), std::string::npos);
  EXPECT_EQ(f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef"})").status, 200);
  EXPECT_EQ(f.attests, 1);
}

TEST(http_api_test, busy_measurement_is_503_with_retry_after) {
  Fixture f;
  f.attest_status = Status::DeadlineExceeded("another measurement is still running; retry later");
  auto r = f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef"})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers.at(0).first, "Retry-After");
}

TEST(http_api_test, latest_report_identity_and_ledger) {
  Fixture f;
  EXPECT_EQ(f.Do("GET", "/v1/report/latest").status, 503);
  f.state.SetLatestReport(SignedReport{"a.b.c", nlohmann::json::object(), "ff", 1.7e9});
  auto r = f.Do("GET", "/v1/report/latest");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "a.b.c");
  r = f.Do("GET", "/v1/identity");
  auto id = nlohmann::json::parse(r.body);
  EXPECT_EQ(id["kid"], "kid123");
  EXPECT_TRUE(id.contains("jwk"));
  r = f.Do("GET", "/v1/ledger", "", "from=3");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/jsonl");
  EXPECT_EQ(r.body, "{\"seq\":3}\n{\"seq\":4}\n");
  EXPECT_EQ(f.Do("GET", "/v1/ledger", "", "from=-1").status, 400);
  EXPECT_EQ(f.Do("GET", "/v1/ledger", "", "from=abc").status, 400);
}

// Issue #17: /v1/ledger has its own token bucket; a client hammering it
// gets 429 with Retry-After.
TEST(http_api_test, ledger_requests_are_rate_limited_with_retry_after) {
  Config c = DefaultConfig();
  c.global.Set("api.ledger_rate_per_minute", 2.0);
  c.global.Set("api.ledger_burst", 3);
  Fixture f(c);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(f.Do("GET", "/v1/ledger", "", "from=1").status, 200) << i;
  auto r = f.Do("GET", "/v1/ledger", "", "from=1");
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(ErrorOf(r).find("api.ledger_rate_per_minute"), std::string::npos);
  ASSERT_FALSE(r.headers.empty());
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_EQ(r.headers[0].second, "30");  // 2 per minute: the next token in 30 s
  // A malformed query is answered 400 without taking a token; attest has its own bucket.
  EXPECT_EQ(f.Do("GET", "/v1/ledger", "", "from=abc").status, 400);
  EXPECT_EQ(f.Do("POST", "/v1/attest", R"({"nonce": "0123456789abcdef"})").status, 200);
}

TEST(metrics_exporter_test, names_are_prefixed_and_labels_bounded) {
  Fixture f;
  // Claim gauges come from the declarations (claims/*_claim_specs.h): an
  // undeclared claim is not exported, families get their placeholders as labels.
  auto ok_run = [](const std::string& name, MeterKind kind, nlohmann::json claims) {
    MeterRun run;
    run.name = name;
    run.kind = kind;
    run.result = MeterResult::Ok();
    run.result.claims = std::move(claims);
    return run;
  };
  f.state.RecordRuns(
      {ok_run("cpu.time", MeterKind::kLight,
              {{"busy_seconds", 1.5},
               {"user_seconds", 0.5},
               {"per_cpu", nlohmann::json::array()},
               {"undeclared_seconds", 3},
               {"name", "text"}}),
       ok_run("memory.capacity", MeterKind::kLight, {{"totals_agree", true}, {"hugepages", 4}}),
       ok_run("disk.io", MeterKind::kHeavy,
              {{"rand_read_qd32_ios_per_second", 1000}, {"fsync_latency_p99_seconds", 0.002}})},
      1.7e9);
  // Requests to many distinct unknown paths must not create new series.
  for (int i = 0; i < 50; ++i) f.Do("GET", "/random/" + std::to_string(i));
  const std::string text = f.exporter.Render();
  EXPECT_NE(text.find("resmeter_cpu_time_busy_seconds 1.5"), std::string::npos);
  EXPECT_NE(text.find("resmeter_cpu_time_state_seconds{state=\"user\"} 0.5"), std::string::npos) << text;
  EXPECT_NE(text.find("resmeter_memory_capacity_totals_agree 1"), std::string::npos);
  EXPECT_NE(text.find("resmeter_memory_capacity_hugepages 4"), std::string::npos);
  EXPECT_NE(text.find("resmeter_disk_io_fsync_latency_p99_seconds 0.002"), std::string::npos);
  const size_t iops = text.find("\nresmeter_disk_io_ios_per_second{");
  ASSERT_NE(iops, std::string::npos) << text;
  const std::string iops_line = text.substr(iops + 1, text.find('\n', iops + 1) - iops - 1);
  EXPECT_NE(iops_line.find("workload=\"rand_read\""), std::string::npos) << iops_line;
  EXPECT_NE(iops_line.find("queue_depth=\"32\""), std::string::npos) << iops_line;
  EXPECT_EQ(text.find("undeclared"), std::string::npos);
  EXPECT_EQ(text.find("_value "), std::string::npos);
  EXPECT_NE(text.find("# HELP resmeter_cpu_time_busy_seconds CPU seconds not idle"), std::string::npos);
  EXPECT_NE(text.find("resmeter_meter_success{meter=\"cpu.time\"} 1"), std::string::npos);
  EXPECT_NE(text.find("resmeter_http_requests_total{code=\"404\",handler=\"other\"} 50"), std::string::npos);
  EXPECT_EQ(text.find("/random"), std::string::npos);
  for (auto line : Split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    // The standard process_* names are the only ones without the prefix.
    EXPECT_TRUE(line.rfind("resmeter_", 0) == 0 || line.rfind("process_", 0) == 0) << line;
  }
}

// /metrics by content negotiation, through the API: the format, Vary and gzip.
TEST(metrics_exporter_test, metrics_route_negotiates_format_and_encoding) {
  Fixture f;
  HttpRequest r;
  r.method = "GET";
  r.path = "/metrics";
  HttpResponse plain = f.api->Handle(r);
  EXPECT_EQ(plain.content_type, "text/plain; version=0.0.4; charset=utf-8");
  auto header = [](const HttpResponse& resp, const std::string& name) {
    for (const auto& [n, v] : resp.headers) {
      if (n == name) return v;
    }
    return std::string();
  };
  EXPECT_EQ(header(plain, "Vary"), "Accept, Accept-Encoding");
  EXPECT_EQ(header(plain, "Content-Encoding"), "");
  r.accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
  HttpResponse om = f.api->Handle(r);
  EXPECT_EQ(om.content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(om.body.substr(om.body.size() - 6), "# EOF\n");
  r.accept_encoding = "gzip";
  HttpResponse gz = f.api->Handle(r);
  EXPECT_EQ(header(gz, "Content-Encoding"), "gzip");
  ASSERT_GE(gz.body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz.body[0]), 0x1f);
}

// Every family of a fully populated agent keeps its own OpenMetrics family
// name: none is lost to a name clash (a counter x_total and a gauge x).
TEST(metrics_exporter_test, openmetrics_family_names_do_not_clash) {
  Fixture f;
  MeterRun run;
  run.name = "cpu.time";
  run.kind = MeterKind::kLight;
  run.result = MeterResult::Ok();
  run.result.claims = {{"busy_seconds", 1.5}, {"vcpus", 2}};
  run.result.findings.push_back({"steal_mismatch", "x", {}});
  f.state.RecordRuns({run}, 1.7e9);
  LedgerHead head;
  head.enabled = true;
  head.last_append_unix_seconds = 1.7e9;
  head.period_seconds = 60;
  f.state.SetLedgerHead(head);
  f.state.RecordAttest("ok", 1.7e9);
  f.Do("GET", "/metrics");
  const auto families = f.exporter.Collect();
  const std::string om = f.exporter.Render(MetricsFormat::kOpenMetrics);
  size_t types = 0;
  for (auto line : Split(om, '\n')) types += line.rfind("# TYPE ", 0) == 0;
  size_t non_empty = 0;
  for (const auto& fam : families) non_empty += !fam.metric.empty();
  EXPECT_EQ(types, non_empty) << om;
  for (const char* name : {"resmeter_findings_total{code=\"steal_mismatch\",meter=\"cpu.time\"} 1",
                           "resmeter_meter_findings{meter=\"cpu.time\"} 1",
                           "resmeter_usage_vcpu_seconds_total 0", "process_cpu_seconds_total "}) {
    EXPECT_NE(om.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace resmeter
