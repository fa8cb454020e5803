// Policy evaluation: a passing policy, each clause failing on its own,
// unavailable measurements, evidence types and measurements, time and age.
#include "reporter/policy_evaluator.h"

#include <gtest/gtest.h>

#include <functional>

#include "core/strings.h"
#include "reporter/evidence.h"

namespace resmeter {
namespace {

constexpr double kIat = 1'800'000'000;

const char* const kPolicy = R"(name: ordered
max_report_age_seconds: 600
time: {require_trusted: true, max_error_bound_seconds: 0.1}
evidence: {accept: [sev-snp], measurements: [AABB]}
claims:
  - cpu.vcpus: {min: 8}
  - cpu.sustained_ghz: {min: 3.0}
  - cpu.availability_ratio: {min: 0.95}
  - cpu.steal_ratio: {max: 0.05}
  - memory.total_gib: {min: 64}
  - memory.triad_gb_per_second: {min: 100}
  - disk.rand_read_iops: {min: 200000, queue_depth: 32}
  - disk.rand_read_p99_ms: {max: 1, queue_depth: 32}
  - net.download_gbit_per_second: {min: 9, peer: "peer.example:7300"}
  - net.rtt_p99_ms: {max: 2}
  - gpu.count: {equals: 2}
  - gpu.model: {contains: h100}
  - gpu.memory_gib: {min: 79}
)";

// Claims of a report that meets kPolicy.
nlohmann::json GoodClaims() {
  return nlohmann::json::parse(R"({
  "iat": 1800000000,
  "time": {"trusted": true, "error_bound_seconds": 0.002, "source": "chrony"},
  "submods": {
    "cpu.topology": {"status": "ok", "claims": {"threads": 16}},
    "cpu.time": {"status": "ok", "claims": {"steal_ratio": 0.01}},
    "cpu.throttling": {"status": "ok", "claims": {"sustained_hz": 3.2e9}},
    "cpu.availability": {"status": "ok", "claims": {"availability_ratio": 0.99}},
    "memory.capacity": {"status": "ok", "claims": {"mem_total_bytes": 68719476736}},
    "memory.bandwidth": {"status": "ok", "claims": {"triad_bytes_per_second": 1.2e11}},
    "disk.io": {"status": "ok", "claims": {"rand_read_qd32_ios_per_second": 250000,
                                           "rand_read_qd32_latency_p99_seconds": 0.0008,
                                           "rand_read_qd1_ios_per_second": 12000}},
    "net.throughput": {"status": "ok", "claims": {"targets": [
        {"target": "peer.example:7300", "status": "ok", "download_bps": 9.4e9, "upload_bps": 9.3e9},
        {"target": "other.example:7300", "status": "ok", "download_bps": 1e9, "upload_bps": 1e9}]}},
    "net.latency": {"status": "ok", "claims": {"targets": [
        {"target": "peer.example:7300", "status": "ok", "rtt_p99_seconds": 0.0005},
        {"target": "other.example:7300", "status": "ok", "rtt_p99_seconds": 0.0015}]}},
    "gpu.devices": {"status": "ok", "claims": {"gpu_count": 2, "devices": [
        {"pci_bus_id": "0000:01:00.0", "device_name": "GH100", "nvml": {"name": "NVIDIA H100 80GB HBM3", "memory_total_bytes": 85899345920}},
        {"pci_bus_id": "0000:02:00.0", "device_name": "GH100", "nvml": {"name": "NVIDIA H100 80GB HBM3", "memory_total_bytes": 85899345920}}]}}
  }
})");
}

EvidenceAppraisal GoodEvidence() {
  EvidenceAppraisal a;
  a.type = "sev-snp";
  a.status = EvidenceAppraisalStatus::kVerified;
  a.measurement = "aabb";
  return a;
}

Policy ParseOrDie(const std::string& yaml) {
  auto p = ParsePolicy(yaml, "p.yaml");
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : Policy{};
}

std::vector<std::string> Failed(const PolicyVerdict& v) {
  std::vector<std::string> names;
  for (const auto& c : v.clauses) {
    if (!c.passed) names.push_back(c.name);
  }
  return names;
}

TEST(policy_evaluator_test, passing_policy) {
  const Policy p = ParseOrDie(kPolicy);
  const PolicyVerdict v = EvaluatePolicy(p, GoodClaims(), GoodEvidence(), kIat + 60);
  EXPECT_TRUE(v.passed) << v.ToJson().dump(1);
  EXPECT_EQ(v.clauses.size(), 18u);  // 13 claims, 2 time, 2 evidence, 1 age
  EXPECT_EQ(v.clauses[0].name, "cpu.vcpus");
  EXPECT_EQ(v.clauses[0].required, ">= 8");
  EXPECT_EQ(v.clauses[0].measured, "16");
  EXPECT_EQ(v.clauses[0].line, 6);
  EXPECT_EQ(v.clauses[1].measured, "3.2 GHz");
  EXPECT_EQ(v.clauses[4].measured, "64 GiB");
  EXPECT_EQ(v.clauses[6].measured, "250000 IOPS");
  EXPECT_EQ(v.clauses[8].name, "net.download_gbit_per_second[peer=peer.example:7300]");
  EXPECT_EQ(v.clauses[8].measured, "9.4 Gbit/s");  // the named peer only
  EXPECT_EQ(v.clauses[9].measured, "1.5 ms");      // no peer: the worst target
  EXPECT_EQ(v.clauses[11].measured, "2 x NVIDIA H100 80GB HBM3");
  EXPECT_EQ(v.clauses[12].measured, "80 GiB");
  const nlohmann::json j = v.ToJson();
  EXPECT_TRUE(j["passed"].get<bool>());
  EXPECT_EQ(j["failed"], 0);
  EXPECT_EQ(j["clauses"][0]["name"], "cpu.vcpus");
}

struct Breakage {
  std::string clause;  // the one clause that must fail
  std::function<void(nlohmann::json& claims, EvidenceAppraisal& evidence, double& now)> apply;
};

TEST(policy_evaluator_test, each_clause_fails_on_its_own) {
  const Policy p = ParseOrDie(kPolicy);
  auto claim = [](const char* meter, const char* key, nlohmann::json value) {
    return
        [=](nlohmann::json& c, EvidenceAppraisal&, double&) { c["submods"][meter]["claims"][key] = value; };
  };
  const std::vector<Breakage> cases = {
      {"cpu.vcpus", claim("cpu.topology", "threads", 4)},
      {"cpu.sustained_ghz", claim("cpu.throttling", "sustained_hz", 2.9e9)},
      {"cpu.availability_ratio", claim("cpu.availability", "availability_ratio", 0.9)},
      {"cpu.steal_ratio", claim("cpu.time", "steal_ratio", 0.2)},
      {"memory.total_gib", claim("memory.capacity", "mem_total_bytes", 32.0 * (1 << 30))},
      {"memory.triad_gb_per_second", claim("memory.bandwidth", "triad_bytes_per_second", 9e10)},
      {"disk.rand_read_iops[qd=32]", claim("disk.io", "rand_read_qd32_ios_per_second", 150000)},
      {"disk.rand_read_p99_ms[qd=32]", claim("disk.io", "rand_read_qd32_latency_p99_seconds", 0.002)},
      {"net.download_gbit_per_second[peer=peer.example:7300]",
       [](nlohmann::json& c, EvidenceAppraisal&, double&) {
         c["submods"]["net.throughput"]["claims"]["targets"][0]["download_bps"] = 8e9;
       }},
      {"net.rtt_p99_ms",
       [](nlohmann::json& c, EvidenceAppraisal&, double&) {
         c["submods"]["net.latency"]["claims"]["targets"][1]["rtt_p99_seconds"] = 0.005;
       }},
      {"gpu.count", claim("gpu.devices", "gpu_count", 1)},
      {"gpu.model",
       [](nlohmann::json& c, EvidenceAppraisal&, double&) {
         c["submods"]["gpu.devices"]["claims"]["devices"][1]["nvml"]["name"] = "NVIDIA A100-SXM4-80GB";
       }},
      {"gpu.memory_gib",
       [](nlohmann::json& c, EvidenceAppraisal&, double&) {
         c["submods"]["gpu.devices"]["claims"]["devices"][1]["nvml"]["memory_total_bytes"] = 42949672960.0;
       }},
      {"time.trusted",
       [](nlohmann::json& c, EvidenceAppraisal&, double&) {
         c["time"]["trusted"] = false;
         c["time"]["reason"] = "not NTS-authenticated";
       }},
      {"time.error_bound_seconds",
       [](nlohmann::json& c, EvidenceAppraisal&, double&) { c["time"]["error_bound_seconds"] = 0.5; }},
      {"evidence.type", [](nlohmann::json&, EvidenceAppraisal& e, double&) { e.type = "tdx"; }},
      {"evidence.measurement",
       [](nlohmann::json&, EvidenceAppraisal& e, double&) { e.measurement = "ccdd"; }},
      {"report.age_seconds", [](nlohmann::json&, EvidenceAppraisal&, double& now) { now = kIat + 601; }},
  };
  EXPECT_EQ(cases.size(), EvaluatePolicy(p, GoodClaims(), GoodEvidence(), kIat).clauses.size());
  for (const auto& b : cases) {
    nlohmann::json claims = GoodClaims();
    EvidenceAppraisal evidence = GoodEvidence();
    double now = kIat + 60;
    b.apply(claims, evidence, now);
    const PolicyVerdict v = EvaluatePolicy(p, claims, evidence, now);
    EXPECT_FALSE(v.passed) << b.clause;
    EXPECT_EQ(Failed(v), std::vector<std::string>{b.clause}) << v.ToJson().dump(1);
  }
}

TEST(policy_evaluator_test, unavailable_measurements_fail) {
  const Policy p = ParseOrDie(kPolicy);
  nlohmann::json claims = GoodClaims();
  claims["submods"]["cpu.throttling"] = {
      {"status", "unavailable"}, {"reason", "no PMU"}, {"claims", nlohmann::json::object()}};
  claims["submods"]["memory.bandwidth"] = {
      {"status", "failed"}, {"reason", "cannot map"}, {"claims", nlohmann::json::object()}};
  claims["submods"].erase("cpu.availability");
  claims["submods"]["disk.io"]["claims"].erase("rand_read_qd32_latency_p99_seconds");
  claims["submods"]["net.throughput"]["claims"]["targets"][0] = {
      {"target", "peer.example:7300"}, {"status", "failed"}, {"reason", "connection refused"}};
  claims["submods"]["gpu.devices"]["claims"]["devices"] = nlohmann::json::array();
  claims.erase("time");
  const PolicyVerdict v = EvaluatePolicy(p, claims, GoodEvidence(), kIat);
  auto measured = [&](const std::string& name) {
    for (const auto& c : v.clauses) {
      if (c.name == name) {
        EXPECT_FALSE(c.passed) << name;
        return c.measured;
      }
    }
    ADD_FAILURE() << "no clause " << name;
    return std::string();
  };
  EXPECT_EQ(measured("cpu.sustained_ghz"), "unavailable: cpu.throttling unavailable: no PMU");
  EXPECT_EQ(measured("memory.triad_gb_per_second"), "unavailable: memory.bandwidth failed: cannot map");
  EXPECT_EQ(measured("cpu.availability_ratio"), "unavailable: meter cpu.availability is not in the report");
  EXPECT_EQ(measured("disk.rand_read_p99_ms[qd=32]")
                .rfind("unavailable: disk.io did not run rand_read at queue depth 32", 0),
            0u);
  EXPECT_EQ(measured("net.download_gbit_per_second[peer=peer.example:7300]"),
            "unavailable: net.throughput to peer.example:7300 failed: connection refused");
  EXPECT_EQ(measured("gpu.model"), "unavailable: gpu.devices found no GPU");
  EXPECT_EQ(measured("time.trusted"), "unavailable: the report has no time claim");
  EXPECT_EQ(Failed(v).size(), 9u) << v.ToJson().dump(
      1);  // the 7 above, gpu.memory_gib, time.error_bound_seconds
}

TEST(policy_evaluator_test, peer_that_was_not_measured_fails) {
  const Policy p = ParseOrDie("claims:\n  - net.upload_gbit_per_second: {min: 1, peer: nowhere:1}\n");
  const PolicyVerdict v = EvaluatePolicy(p, GoodClaims(), GoodEvidence(), kIat);
  ASSERT_EQ(v.clauses.size(), 1u);
  EXPECT_FALSE(v.passed);
  EXPECT_EQ(v.clauses[0].measured, "unavailable: net.throughput did not measure peer nowhere:1");
}

TEST(policy_evaluator_test, evidence_accept_list) {
  EvidenceAppraisal none;
  none.type = "none";
  none.status = EvidenceAppraisalStatus::kDevelopment;
  EvidenceAppraisal failed = GoodEvidence();
  failed.status = EvidenceAppraisalStatus::kFailed;
  failed.detail = "sev-snp: signature: bad";

  const Policy hw = ParseOrDie("evidence: {accept: [sev-snp, tdx]}\n");
  EXPECT_TRUE(EvaluatePolicy(hw, GoodClaims(), GoodEvidence(), kIat).passed);
  PolicyVerdict v = EvaluatePolicy(hw, GoodClaims(), none, kIat);
  EXPECT_FALSE(v.passed);
  EXPECT_EQ(v.clauses[0].measured, "none (development mode, not trusted)");
  v = EvaluatePolicy(hw, GoodClaims(), failed, kIat);
  EXPECT_FALSE(v.passed);  // an accepted type whose verification failed
  EXPECT_EQ(v.clauses[0].measured, "sev-snp (failed: sev-snp: signature: bad)");

  const Policy dev = ParseOrDie("evidence: {accept: [none]}\n");
  EXPECT_TRUE(EvaluatePolicy(dev, GoodClaims(), none, kIat).passed);

  // Per-type measurement lists: a type without a list is not constrained.
  const Policy per_type = ParseOrDie("evidence: {accept: [sev-snp, tdx], measurements: {tdx: [eeff]}}\n");
  v = EvaluatePolicy(per_type, GoodClaims(), GoodEvidence(), kIat);
  EXPECT_TRUE(v.passed);
  EXPECT_EQ(v.clauses.size(), 1u);
  EvidenceAppraisal tdx = GoodEvidence();
  tdx.type = "tdx";
  v = EvaluatePolicy(per_type, GoodClaims(), tdx, kIat);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"evidence.measurement"});
  tdx.measurement = "EEFF";
  EXPECT_TRUE(EvaluatePolicy(per_type, GoodClaims(), tdx, kIat).passed);
}

TEST(policy_evaluator_test, time_required_and_report_age) {
  const Policy p = ParseOrDie("time: {require_trusted: true}\nmax_report_age_seconds: 300\n");
  EXPECT_TRUE(EvaluatePolicy(p, GoodClaims(), GoodEvidence(), kIat + 300).passed);
  PolicyVerdict v = EvaluatePolicy(p, GoodClaims(), GoodEvidence(), kIat + 300.5);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"report.age_seconds"});
  EXPECT_EQ(v.clauses[1].required, "<= 300 s");
  nlohmann::json claims = GoodClaims();
  claims["time"] = {{"trusted", false}, {"reason", "chronyd not reachable"}};
  v = EvaluatePolicy(p, claims, GoodEvidence(), kIat);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"time.trusted"});
  EXPECT_EQ(v.clauses[0].measured, "untrusted: chronyd not reachable");
  claims.erase("iat");
  v = EvaluatePolicy(p, claims, GoodEvidence(), kIat);
  EXPECT_EQ(v.clauses[1].measured, "unavailable: the report has no iat");
}

TEST(policy_evaluator_test, text_equals_and_ranges) {
  const Policy p = ParseOrDie(
      "claims:\n  - gpu.model: {equals: NVIDIA H100 80GB HBM3}\n  - cpu.vcpus: {min: 8, max: 16}\n"
      "  - gpu.count: {equals: 2}\n");
  PolicyVerdict v = EvaluatePolicy(p, GoodClaims(), GoodEvidence(), kIat);
  EXPECT_TRUE(v.passed) << v.ToJson().dump(1);
  EXPECT_EQ(v.clauses[1].required, "8 .. 16");
  nlohmann::json claims = GoodClaims();
  claims["submods"]["cpu.topology"]["claims"]["threads"] = 32;
  claims["submods"]["gpu.devices"]["claims"]["devices"][0]["nvml"]["name"] = "nvidia h100 80gb hbm3";
  v = EvaluatePolicy(p, claims, GoodEvidence(), kIat);
  EXPECT_EQ(Failed(v), (std::vector<std::string>{"gpu.model", "cpu.vcpus"}));
}

}  // namespace
}  // namespace resmeter
