// Policy evaluation: a passing policy, each clause failing on its own,
// unavailable measurements, evidence types, measurements and pins, time and
// age, findings, meter ages, and net clauses that count only numbers
// co-signed by a peer the policy lists.
#include "policy/policy_evaluator.h"

#include <gtest/gtest.h>

#include <functional>

#include "core/strings.h"
#include "evidence/evidence.h"
#include "jose/jws.h"
#include "jose/signing_key.h"

namespace resmeter {
namespace {

constexpr double kIat = 1'800'000'000;

// 48-byte launch measurements (SEV-SNP MEASUREMENT, TDX MRTD), as hex.
std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}
const std::string kMeasurementA = Repeat("aabb", 24);
const std::string kMeasurementB = Repeat("eeff", 24);

// The agent that signs reports, the two peers the policy lists, and one it does not.
const SigningKey& AgentKey() {
  static const std::shared_ptr<SigningKey> k = *SigningKey::Generate(kAlgEdDSA);
  return *k;
}
const SigningKey& LabPeerKey() {
  static const std::shared_ptr<SigningKey> k = *SigningKey::Generate(kAlgEdDSA);
  return *k;
}
const SigningKey& OtherPeerKey() {
  static const std::shared_ptr<SigningKey> k = *SigningKey::Generate(kAlgES384);
  return *k;
}
const SigningKey& UnlistedPeerKey() {
  static const std::shared_ptr<SigningKey> k = *SigningKey::Generate(kAlgEdDSA);
  return *k;
}

// Makes `entry` a target co-signed by `peer` and `agent` over one summary.
void CoSign(nlohmann::json& entry, const SigningKey& peer, const SigningKey& agent = AgentKey()) {
  const nlohmann::json summary = {{"format", "resmeter-net-summary/1"},
                                  {"peer", {{"thumbprint", peer.Thumbprint()}}},
                                  {"client", {{"thumbprint", agent.Thumbprint()}}}};
  entry["peer_jwk"] = peer.PublicJwk();
  entry["peer_thumbprint"] = peer.Thumbprint();
  entry["peer_signature_jws"] = *JwsSign(peer, summary.dump(), nlohmann::json::object());
  entry["agent_signature_jws"] = *JwsSign(agent, summary.dump(), nlohmann::json::object());
}

// The peers section naming both listed peers.
std::string PeersYaml() {
  return "peers:\n  lab: {kid: " + LabPeerKey().Thumbprint() +
         "}\n  other: {kid: " + OtherPeerKey().Thumbprint() + "}\n";
}

const std::string kPolicy = PeersYaml() + R"(name: ordered
max_report_age_seconds: 600
time: {require_trusted: true, max_error_bound_seconds: 0.1}
evidence: {accept: [sev-snp], measurements: [)" +
                            Repeat("AABB", 24) + R"(]}
claims:
  - cpu.vcpus: {min: 8}
  - cpu.sustained_ghz: {min: 3.0}
  - cpu.availability_ratio: {min: 0.95}
  - cpu.steal_ratio: {max: 0.05}
  - memory.total_gib: {min: 64}
  - memory.triad_gb_per_second: {min: 100}
  - disk.rand_read_iops: {min: 200000, queue_depth: 32}
  - disk.rand_read_p99_ms: {max: 1, queue_depth: 32}
  - net.download_gbit_per_second: {min: 9, peer: lab}
  - net.rtt_p99_ms: {max: 2}
  - gpu.count: {equals: 2}
  - gpu.model: {contains: h100}
  - gpu.memory_gib: {min: 79}
)";

// Claims of a report that meets kPolicy, its net targets co-signed.
nlohmann::json GoodClaims() {
  static const nlohmann::json kClaims = [] {
    nlohmann::json c = nlohmann::json::parse(R"({
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
    c["cnf"] = {{"jwk", AgentKey().PublicJwk()}};
    for (const char* meter : {"net.throughput", "net.latency"}) {
      CoSign(c["submods"][meter]["claims"]["targets"][0], LabPeerKey());
      CoSign(c["submods"][meter]["claims"]["targets"][1], OtherPeerKey());
    }
    return c;
  }();
  return kClaims;
}

EvidenceAppraisal GoodEvidence() {
  EvidenceAppraisal a;
  a.type = "sev-snp";
  a.status = EvidenceAppraisalStatus::kVerified;
  a.measurement = kMeasurementA;
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
  EXPECT_EQ(v.clauses[0].line, 9);
  EXPECT_EQ(v.clauses[1].measured, "3.2 GHz");
  EXPECT_EQ(v.clauses[4].measured, "64 GiB");
  EXPECT_EQ(v.clauses[6].measured, "250000 IOPS");
  EXPECT_EQ(v.clauses[8].name, "net.download_gbit_per_second[peer=lab]");
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
      {"net.download_gbit_per_second[peer=lab]",
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
  EXPECT_EQ(measured("net.download_gbit_per_second[peer=lab]"),
            "unavailable: net.throughput did not measure peer lab (kid " + LabPeerKey().Thumbprint() +
                "); peer.example:7300 failed: connection refused");
  EXPECT_EQ(measured("gpu.model"), "unavailable: gpu.devices found no GPU");
  EXPECT_EQ(measured("time.trusted"), "unavailable: the report has no time claim");
  EXPECT_EQ(Failed(v).size(), 9u) << v.ToJson().dump(
      1);  // the 7 above, gpu.memory_gib, time.error_bound_seconds
}

TEST(policy_evaluator_test, peer_that_was_not_measured_fails) {
  auto never = *SigningKey::Generate(kAlgEdDSA);
  const Policy p = ParseOrDie("peers: {nowhere: {kid: " + never->Thumbprint() +
                              "}}\nclaims:\n  - net.upload_gbit_per_second: {min: 1, peer: nowhere}\n");
  const PolicyVerdict v = EvaluatePolicy(p, GoodClaims(), GoodEvidence(), kIat);
  ASSERT_EQ(v.clauses.size(), 1u);
  EXPECT_FALSE(v.passed);
  EXPECT_EQ(v.clauses[0].measured,
            "unavailable: net.throughput did not measure peer nowhere (kid " + never->Thumbprint() + ")");
}

// The attack: the provider runs its own "peer" and co-signs whatever numbers
// it likes; the report carries that peer's JWK, so its signatures hold. Only
// the buyer's list of peer keys tells it apart.
TEST(policy_evaluator_test, net_clause_fails_on_a_peer_the_policy_does_not_list) {
  const Policy p = ParseOrDie(kPolicy);
  nlohmann::json claims = GoodClaims();
  nlohmann::json& lab = claims["submods"]["net.throughput"]["claims"]["targets"][0];
  CoSign(lab, UnlistedPeerKey());  // same numbers, co-signed by the provider's own peer
  PolicyVerdict v = EvaluatePolicy(p, claims, GoodEvidence(), kIat, AgentKey().public_key());
  // The clause for peer lab no longer finds lab's key among the targets.
  EXPECT_EQ(Failed(v), std::vector<std::string>{"net.download_gbit_per_second[peer=lab]"})
      << v.ToJson().dump(1);

  // An unqualified net clause reads every target: the unlisted one fails it.
  const Policy any = ParseOrDie(PeersYaml() + "claims:\n  - net.download_gbit_per_second: {min: 0.5}\n");
  v = EvaluatePolicy(any, claims, GoodEvidence(), kIat, AgentKey().public_key());
  ASSERT_EQ(v.clauses.size(), 1u);
  EXPECT_FALSE(v.clauses[0].passed);
  EXPECT_EQ(v.clauses[0].measured, "peer not accepted: target peer.example:7300 was co-signed by key " +
                                       UnlistedPeerKey().Thumbprint() +
                                       ", which is not a peer the policy lists");
  // Listed again: passes (with the key given and with the report's cnf.jwk).
  EXPECT_TRUE(EvaluatePolicy(any, GoodClaims(), GoodEvidence(), kIat, AgentKey().public_key()).passed);
  EXPECT_TRUE(EvaluatePolicy(any, GoodClaims(), GoodEvidence(), kIat).passed);
}

TEST(policy_evaluator_test, net_clause_fails_when_the_cosignature_does_not_hold) {
  const Policy p = ParseOrDie(kPolicy);
  // The listed peer's key, but the agent half signed by another agent: a
  // target entry copied from someone else's report.
  auto stranger = *SigningKey::Generate(kAlgEdDSA);
  nlohmann::json claims = GoodClaims();
  CoSign(claims["submods"]["net.throughput"]["claims"]["targets"][0], LabPeerKey(), *stranger);
  PolicyVerdict v = EvaluatePolicy(p, claims, GoodEvidence(), kIat, AgentKey().public_key());
  EXPECT_EQ(Failed(v), std::vector<std::string>{"net.download_gbit_per_second[peer=lab]"});
  EXPECT_EQ(v.clauses[8].measured.rfind(
                "peer not accepted: target peer.example:7300 co-signature does not hold", 0),
            0u)
      << v.clauses[8].measured;

  // The peer's signature replaced by a signature of another key over the same summary.
  claims = GoodClaims();
  nlohmann::json& lab = claims["submods"]["net.throughput"]["claims"]["targets"][0];
  nlohmann::json forged = lab;
  CoSign(forged, UnlistedPeerKey());
  lab["peer_signature_jws"] = forged["peer_signature_jws"];
  v = EvaluatePolicy(p, claims, GoodEvidence(), kIat, AgentKey().public_key());
  EXPECT_EQ(Failed(v), std::vector<std::string>{"net.download_gbit_per_second[peer=lab]"});

  // Without a key to check the agent half (no cnf.jwk), net clauses fail.
  claims = GoodClaims();
  claims.erase("cnf");
  v = EvaluatePolicy(p, claims, GoodEvidence(), kIat);
  EXPECT_EQ(Failed(v),
            (std::vector<std::string>{"net.download_gbit_per_second[peer=lab]", "net.rtt_p99_ms"}));
}

TEST(policy_evaluator_test, findings_forbid_and_max) {
  const Policy p = ParseOrDie("findings: {forbid: [memory_total_mismatch], max: 1}\n");
  EXPECT_TRUE(EvaluatePolicy(p, GoodClaims(), GoodEvidence(), kIat).passed);
  nlohmann::json claims = GoodClaims();
  claims["submods"]["memory.capacity"]["findings"] = {
      {{"code", "memory_total_mismatch"}, {"message", "MemTotal 64 GiB, NUMA nodes 48 GiB"}}};
  PolicyVerdict v = EvaluatePolicy(p, claims, GoodEvidence(), kIat);
  ASSERT_EQ(v.clauses.size(), 2u);
  EXPECT_EQ(v.clauses[0].name, "findings.forbid");
  EXPECT_FALSE(v.clauses[0].passed);
  EXPECT_EQ(v.clauses[0].required, "none of memory_total_mismatch");
  EXPECT_EQ(v.clauses[0].measured, "memory_total_mismatch (memory.capacity)");
  EXPECT_EQ(v.clauses[0].line, 1);
  EXPECT_TRUE(v.clauses[1].passed);  // one finding, at most one allowed
  claims["submods"]["cpu.throttling"]["findings"] = {{{"code", "throttled"}, {"message", "x"}}};
  v = EvaluatePolicy(p, claims, GoodEvidence(), kIat);
  EXPECT_EQ(v.clauses[1].name, "findings.max");
  EXPECT_FALSE(v.clauses[1].passed);
  EXPECT_EQ(v.clauses[1].measured, "2: throttled (cpu.throttling), memory_total_mismatch (memory.capacity)");
  // Another code only: forbid passes, naming what was found.
  claims["submods"]["memory.capacity"].erase("findings");
  v = EvaluatePolicy(p, claims, GoodEvidence(), kIat);
  EXPECT_TRUE(v.clauses[0].passed);
  EXPECT_EQ(v.clauses[0].measured, "none forbidden (throttled (cpu.throttling))");
}

TEST(policy_evaluator_test, meter_age_against_measured_at) {
  const Policy p =
      ParseOrDie("meters:\n  disk.io: {max_age_seconds: 3600}\n  cpu.time: {max_age_seconds: 120}\n");
  nlohmann::json claims = GoodClaims();
  claims["submods"]["disk.io"]["measured_at"] = kIat - 3000;
  claims["submods"]["cpu.time"]["measured_at"] = kIat - 10;
  PolicyVerdict v = EvaluatePolicy(p, claims, GoodEvidence(), kIat + 60);
  EXPECT_TRUE(v.passed) << v.ToJson().dump(1);
  ASSERT_EQ(v.clauses.size(), 2u);
  EXPECT_EQ(v.clauses[0].name, "meters.disk.io.age_seconds");
  EXPECT_EQ(v.clauses[0].measured, "3060 s");
  EXPECT_EQ(v.clauses[0].line, 2);
  // A stale disk measurement: only its clause fails.
  claims["submods"]["disk.io"]["measured_at"] = kIat - 3600;
  v = EvaluatePolicy(p, claims, GoodEvidence(), kIat + 60);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"meters.disk.io.age_seconds"});
  // No measured_at, a meter not in the report, a measured_at after the report.
  claims["submods"]["disk.io"].erase("measured_at");
  v = EvaluatePolicy(p, claims, GoodEvidence(), kIat);
  EXPECT_EQ(v.clauses[0].measured, "unavailable: disk.io has no measured_at");
  EXPECT_FALSE(v.clauses[0].passed);
  claims["submods"].erase("disk.io");
  v = EvaluatePolicy(p, claims, GoodEvidence(), kIat);
  EXPECT_EQ(v.clauses[0].measured, "unavailable: meter disk.io is not in the report");
  claims["submods"]["cpu.time"]["measured_at"] = kIat + 100;
  v = EvaluatePolicy(p, claims, GoodEvidence(), kIat + 200);
  EXPECT_FALSE(v.clauses[1].passed);
  EXPECT_EQ(v.clauses[1].measured.rfind("invalid: measured_at", 0), 0u) << v.clauses[1].measured;
}

// An appraisal made without the policy's pins must not pass the policy.
TEST(policy_evaluator_test, evidence_pins_need_the_verifiers_checks) {
  const Policy p =
      ParseOrDie("evidence:\n  accept: [sev-snp]\n  sev-snp:\n    host_data: " + std::string(64, 'a') +
                 "\n    max_vmpl: 0\n");
  EvidenceAppraisal a = GoodEvidence();
  a.verdict = {{"type", "sev-snp"},
               {"checks", {"signature", "report_data", "policy_debug", "host_data", "vmpl"}}};
  PolicyVerdict v = EvaluatePolicy(p, GoodClaims(), a, kIat);
  EXPECT_TRUE(v.passed) << v.ToJson().dump(1);
  ASSERT_EQ(v.clauses.size(), 2u);
  EXPECT_EQ(v.clauses[1].name, "evidence.pins");
  EXPECT_EQ(v.clauses[1].required, "sev-snp: host_data, vmpl");
  a.verdict["checks"] = {"signature", "report_data", "policy_debug"};
  v = EvaluatePolicy(p, GoodClaims(), a, kIat);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"evidence.pins"});
  EXPECT_EQ(v.clauses[1].measured,
            "not checked: host_data, vmpl (evidence appraised without the policy's pins)");
  // Pins of another type do not apply to this evidence.
  a.type = "tdx";
  const Policy tdx = ParseOrDie("evidence:\n  accept: [sev-snp, tdx]\n  sev-snp: {max_vmpl: 0}\n");
  EXPECT_EQ(EvaluatePolicy(tdx, GoodClaims(), a, kIat).clauses.size(), 1u);
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
  const Policy per_type =
      ParseOrDie("evidence: {accept: [sev-snp, tdx], measurements: {tdx: [" + kMeasurementB + "]}}\n");
  v = EvaluatePolicy(per_type, GoodClaims(), GoodEvidence(), kIat);
  EXPECT_TRUE(v.passed);
  EXPECT_EQ(v.clauses.size(), 1u);
  EvidenceAppraisal tdx = GoodEvidence();
  tdx.type = "tdx";
  v = EvaluatePolicy(per_type, GoodClaims(), tdx, kIat);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"evidence.measurement"});
  tdx.measurement = Repeat("EEFF", 24);
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
