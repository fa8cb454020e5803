// Policy files: the parser accepts the documented format and rejects every
// user mistake with one "FILE:LINE: message" naming the key.
#include "policy/policy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "policy/policy_claims.h"

namespace resmeter {
namespace {

// The error message of a policy that must not parse.
std::string ErrorOf(const std::string& yaml) {
  auto p = ParsePolicy(yaml, "p.yaml");
  EXPECT_FALSE(p.ok()) << yaml;
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(p.status().message().find('\n'), std::string::npos) << "one line: " << p.status().message();
  return p.status().message();
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

const std::string kKid = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";  // RFC 7638 section 3.1's example
const std::string kHex48 = Repeat("ab", 48);
const std::string kHex32 = Repeat("cd", 32);

TEST(policy_parse_test, full_policy) {
  auto p = ParsePolicy(R"(name: small
description: test
max_report_age_seconds: 600
time: {require_trusted: true, max_error_bound_seconds: 0.1}
evidence:
  accept: [sev-snp, tdx]
  measurements: {sev-snp: [)" +
                           Repeat("AABB", 24) + R"(], tdx: [)" + Repeat("ccdd", 24) + R"(]}
claims:
  - cpu.vcpus: {min: 8, max: 16}
  - disk.rand_read_p99_ms: {max: 1, queue_depth: 32}
  - net.download_gbit_per_second: {min: 9, peer: storage}
  - gpu.model: {equals: NVIDIA H100}
  - gpu.count: {equals: 8}
peers:
  storage: {kid: )" + kKid +
                           R"(}
)",
                       "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->name, "small");
  EXPECT_EQ(p->max_report_age_seconds, 600);
  EXPECT_TRUE(p->require_trusted_time);
  EXPECT_EQ(p->max_time_error_bound_seconds, 0.1);
  ASSERT_TRUE(p->evidence);
  EXPECT_EQ(p->evidence->accept, (std::vector<std::string>{"sev-snp", "tdx"}));
  EXPECT_EQ(p->evidence->measurements.at("sev-snp"),
            std::vector<std::string>{Repeat("aabb", 24)});  // lowercased
  ASSERT_EQ(p->clauses.size(), 5u);
  EXPECT_EQ(p->clauses[0].claim, "cpu.vcpus");
  EXPECT_EQ(p->clauses[0].min, 8);
  EXPECT_EQ(p->clauses[0].max, 16);
  EXPECT_EQ(p->clauses[0].line, 9);
  EXPECT_EQ(p->clauses[1].queue_depth, 32);
  EXPECT_EQ(p->clauses[1].DisplayName(), "disk.rand_read_p99_ms[qd=32]");
  EXPECT_EQ(p->clauses[2].peer, "storage");
  EXPECT_EQ(p->clauses[2].peer_kid, kKid);  // resolved from peers:, declared after the claims
  EXPECT_EQ(p->clauses[2].DisplayName(), "net.download_gbit_per_second[peer=storage]");
  EXPECT_EQ(p->clauses[3].equals_text, "NVIDIA H100");
  EXPECT_EQ(p->clauses[4].equals, 8);
}

TEST(policy_parse_test, unknown_claim_names_file_and_line) {
  const std::string e = ErrorOf("claims:\n  - cpu.vcpus: {min: 8}\n  - cpu.vcpu: {min: 8}\n");
  EXPECT_EQ(e.rfind("p.yaml:3: unknown claim 'cpu.vcpu'", 0), 0u) << e;
  EXPECT_NE(e.find("cpu.vcpus"), std::string::npos) << "lists the known names: " << e;
}

TEST(policy_parse_test, wrong_type_names_the_key) {
  EXPECT_EQ(ErrorOf("claims:\n  - cpu.vcpus: {min: eight}\n"),
            "p.yaml:2: key 'cpu.vcpus.min': expected a number, got 'eight'");
  EXPECT_EQ(ErrorOf("claims:\n  - cpu.vcpus: {min: 8GB}\n"),
            "p.yaml:2: key 'cpu.vcpus.min': expected a number, got '8GB'");
  EXPECT_EQ(ErrorOf("time:\n  require_trusted: yes please\n"),
            "p.yaml:2: key 'time.require_trusted': expected true or false, got 'yes please'");
  EXPECT_EQ(ErrorOf("max_report_age_seconds: -5\n"),
            "p.yaml:1: key 'max_report_age_seconds': must be greater than 0, got -5");
  EXPECT_EQ(ErrorOf("claims:\n  - gpu.model: {min: 3}\n")
                .rfind("p.yaml:2: claim 'gpu.model': unknown key 'min'", 0),
            0u);
  EXPECT_EQ(ErrorOf("claims: {cpu.vcpus: {min: 8}}\n").rfind("p.yaml:1: key 'claims': expected a list", 0),
            0u);
}

TEST(policy_parse_test, malformed_clauses) {
  EXPECT_EQ(ErrorOf("claims:\n  - cpu.vcpus: 8\n"),
            "p.yaml:2: claim 'cpu.vcpus': expected a mapping like {min: VALUE}, got '8'");
  EXPECT_EQ(ErrorOf("claims:\n  - cpu.vcpus: {peer: x}\n")
                .rfind("p.yaml:2: claim 'cpu.vcpus': unknown key 'peer'", 0),
            0u);
  EXPECT_EQ(ErrorOf("claims:\n  - disk.rand_read_iops: {min: 1000}\n")
                .rfind("p.yaml:2: claim 'disk.rand_read_iops': needs queue_depth", 0),
            0u);
  EXPECT_EQ(ErrorOf("claims:\n  - cpu.vcpus: {min: 9, max: 8}\n"),
            "p.yaml:2: claim 'cpu.vcpus': min is greater than max");
  EXPECT_EQ(ErrorOf("claims:\n  - cpu.vcpus: {equals: 8, min: 8}\n"),
            "p.yaml:2: claim 'cpu.vcpus': give either equals or min/max, not both");
  EXPECT_EQ(ErrorOf("claims:\n  - cpu.vcpus: {min: 8}\n    memory.total_gib: {min: 1}\n")
                .rfind("p.yaml:2: key 'claims': each clause is one", 0),
            0u);
  EXPECT_EQ(ErrorOf("claims:\n  - {}\n").rfind("p.yaml:2: key 'claims': each clause", 0), 0u);
  EXPECT_EQ(
      ErrorOf("claims:\n  - disk.rand_read_iops: {min: 1, queue_depth: 0.5}\n"),
      "p.yaml:2: key 'disk.rand_read_iops.queue_depth': expected a whole number from 1 to 1024, got 0.5");
}

TEST(policy_parse_test, unknown_keys) {
  EXPECT_EQ(ErrorOf("name: x\nclaimz: []\n").rfind("p.yaml:2: unknown key 'claimz'", 0), 0u);
  EXPECT_EQ(ErrorOf("time:\n  trusted: true\n").rfind("p.yaml:2: unknown key 'time.trusted'", 0), 0u);
  EXPECT_EQ(
      ErrorOf("evidence:\n  accept: [tdx]\n  pcrs: []\n").rfind("p.yaml:3: unknown key 'evidence.pcrs'", 0),
      0u);
  EXPECT_EQ(ErrorOf("evidence:\n  accept: [sgx]\n")
                .rfind("p.yaml:2: key 'evidence.accept[]': unknown evidence type 'sgx'", 0),
            0u);
  EXPECT_EQ(ErrorOf("evidence:\n  measurements: [" + kHex48 + "]\n"),
            "p.yaml:2: key 'evidence': needs 'accept: [evidence types]'");
  EXPECT_EQ(ErrorOf("evidence:\n  accept: [tdx]\n  measurements: [xyz]\n"),
            "p.yaml:3: key 'evidence.measurements[]': 'xyz' is not hex");
}

TEST(policy_parse_test, evidence_pins) {
  auto p = ParsePolicy(R"(evidence:
  accept: [sev-snp, tdx, tpm2]
  key_origins: [ephemeral]
  sev-snp:
    measurement: [)" + kHex48 +
                           R"(]
    host_data: )" + Repeat("CD", 32) +
                           R"(
    min_reported_tcb: {bootloader: 3, tee: 0, snp: 8, microcode: 115}
    allow_debug: true
    max_vmpl: 1
  tdx:
    mr_td: )" + kHex48 + R"(
    rtmr0: )" + kHex48 + R"(
    rtmr3: )" + Repeat("ef", 48) +
                           R"(
    min_tee_tcb_svn: 0b0103)" +
                           Repeat("00", 12) + R"(ff
  tpm2:
    pcrs: {0: )" + kHex32 + R"(, 7: )" +
                           kHex32 + R"(}
    ak_sha256: )" + kHex32 +
                           R"(
)",
                       "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  const PolicyEvidence& e = *p->evidence;
  EXPECT_EQ(e.key_origins, std::vector<std::string>{"ephemeral"});
  EXPECT_EQ(e.measurements.at("sev-snp"), std::vector<std::string>{kHex48});
  EXPECT_EQ(e.measurements.at("tdx"), std::vector<std::string>{kHex48});  // a single value is a list of one
  EXPECT_EQ(e.snp.host_data, kHex32);
  ASSERT_TRUE(e.snp.min_reported_tcb);
  EXPECT_EQ(e.snp.min_reported_tcb->boot_loader, 3);
  EXPECT_EQ(e.snp.min_reported_tcb->snp, 8);
  EXPECT_EQ(e.snp.min_reported_tcb->microcode, 115);
  EXPECT_TRUE(e.snp.allow_debug);
  EXPECT_EQ(e.snp.max_vmpl, 1u);
  EXPECT_EQ(e.tdx.rtmr.size(), 2u);
  EXPECT_EQ(e.tdx.rtmr.at(3), Repeat("ef", 48));
  ASSERT_TRUE(e.tdx.min_tee_tcb_svn);
  EXPECT_EQ(e.tdx.min_tee_tcb_svn->size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>((*e.tdx.min_tee_tcb_svn)[15]), 0xff);
  EXPECT_FALSE(e.tdx.allow_debug);
  EXPECT_EQ(e.tpm.pcrs.size(), 2u);
  EXPECT_EQ(e.tpm.allowed_ak_sha256, std::vector<std::string>{kHex32});

  // A sha1 bank takes 20-byte PCR values.
  EXPECT_TRUE(ParsePolicy("evidence:\n  accept: [tpm2]\n  tpm2: {pcrs: {0: " + Repeat("00", 20) +
                              "}, pcr_bank: sha1}\n",
                          "p.yaml")
                  .ok());
}

TEST(policy_parse_test, evidence_pin_errors) {
  const std::string head = "evidence:\n  accept: [sev-snp, tdx, tpm2]\n";
  EXPECT_EQ(
      ErrorOf(head + "  sev-snp: {measurement: [" + kHex32 + "]}\n"),
      "p.yaml:3: key 'evidence.sev-snp.measurement[]': expected 48 bytes (96 hex digits), got 32 bytes");
  EXPECT_EQ(ErrorOf(head + "  sev-snp: {host_data: " + kHex48 + "}\n"),
            "p.yaml:3: key 'evidence.sev-snp.host_data': expected 32 bytes (64 hex digits), got 48 bytes");
  EXPECT_EQ(ErrorOf(head + "  tdx: {mr_td: [abcd]}\n"),
            "p.yaml:3: key 'evidence.tdx.mr_td[]': expected 48 bytes (96 hex digits), got 2 bytes");
  EXPECT_EQ(ErrorOf(head + "  tdx:\n    rtmr4: " + kHex48 + "\n")
                .rfind("p.yaml:4: unknown key 'evidence.tdx.rtmr4' (known: mr_td, rtmr0", 0),
            0u);
  EXPECT_EQ(ErrorOf(head + "  tdx: {rtmr1: " + kHex32 + "}\n"),
            "p.yaml:3: key 'evidence.tdx.rtmr1': expected 48 bytes (96 hex digits), got 32 bytes");
  EXPECT_EQ(
      ErrorOf(head + "  tpm2:\n    pcrs: {7: " + kHex48 + "}\n"),
      "p.yaml:4: key 'evidence.tpm2.pcrs.7 (sha256 bank)': expected 32 bytes (64 hex digits), got 48 bytes");
  EXPECT_EQ(ErrorOf(head + "  tpm2:\n    pcrs: {24: " + kHex32 + "}\n"),
            "p.yaml:4: key 'evidence.tpm2.pcrs index': expected a whole number from 0 to 23, got 24");
  EXPECT_EQ(ErrorOf(head + "  tpm2: {pcr_bank: md5}\n")
                .rfind("p.yaml:3: key 'evidence.tpm2.pcr_bank': unknown bank", 0),
            0u);
  EXPECT_EQ(ErrorOf(head + "  sev-snp: {max_vmpl: 4}\n"),
            "p.yaml:3: key 'evidence.sev-snp.max_vmpl': expected a whole number from 0 to 3, got 4");
  EXPECT_EQ(ErrorOf(head + "  sev-snp:\n    min_reported_tcb: {ucode: 3}\n")
                .rfind("p.yaml:4: unknown key 'evidence.sev-snp.min_reported_tcb.ucode'", 0),
            0u);
  EXPECT_EQ(ErrorOf(head + "  sev-snp: {allow_debug: maybe}\n"),
            "p.yaml:3: key 'evidence.sev-snp.allow_debug': expected true or false, got 'maybe'");
  EXPECT_EQ(
      ErrorOf(head + "  sev-snp: {vmpl: 0}\n").rfind("p.yaml:3: unknown key 'evidence.sev-snp.vmpl'", 0), 0u);
  EXPECT_EQ(ErrorOf("evidence:\n  accept: [sev-snp]\n  tdx: {rtmr0: " + kHex48 + "}\n"),
            "p.yaml:3: key 'evidence.tdx': pins for a type that evidence.accept does not list");
  EXPECT_EQ(
      ErrorOf(head + "  measurements: {sev-snp: [" + kHex48 + "]}\n  sev-snp: {measurement: [" + kHex48 +
              "]}\n")
          .rfind("p.yaml:4: key 'evidence.sev-snp.measurement': the sev-snp measurements are given twice", 0),
      0u);
  // Key origins: a file key is never an agent's.
  EXPECT_EQ(ErrorOf(head + "  key_origins: [ephemeral, file]\n")
                .rfind("p.yaml:3: key 'evidence.key_origins': 'file' is never accepted for an agent", 0),
            0u);
  EXPECT_EQ(ErrorOf(head + "  key_origins: [tpm]\n"),
            "p.yaml:3: key 'evidence.key_origins': unknown key origin 'tpm' (known: ephemeral)");
}

TEST(policy_parse_test, peers_by_key_never_by_address) {
  const std::string peers = "peers:\n  lab: {kid: " + kKid + "}\n";
  // host:port as a peer: the line says to use the peer's kid.
  const std::string e = ErrorOf(peers + "claims:\n  - net.rtt_p99_ms: {max: 1, peer: \"10.0.0.2:7300\"}\n");
  EXPECT_EQ(e.rfind("p.yaml:4: claim 'net.rtt_p99_ms': peer '10.0.0.2:7300' is a host:port", 0), 0u) << e;
  EXPECT_NE(e.find("resmeter key show"), std::string::npos) << e;
  EXPECT_EQ(ErrorOf(peers + "claims:\n  - net.rtt_p99_ms: {max: 1, peer: east}\n"),
            "p.yaml:4: claim 'net.rtt_p99_ms': unknown peer 'east' (declared under peers: lab)");
  EXPECT_EQ(ErrorOf("claims:\n  - net.rtt_p99_ms: {max: 1}\n")
                .rfind("p.yaml:2: claim 'net.rtt_p99_ms': the policy names no peers", 0),
            0u);
  EXPECT_EQ(ErrorOf("peers:\n  lab: {kid: abc}\nclaims:\n  - cpu.vcpus: {min: 1}\n")
                .rfind("p.yaml:2: key 'peers.lab.kid': 'abc' is not an RFC 7638 key thumbprint", 0),
            0u);
  EXPECT_EQ(ErrorOf("peers:\n  \"10.0.0.2:7300\": {kid: " + kKid + "}\nclaims:\n  - cpu.vcpus: {min: 1}\n")
                .rfind("p.yaml:2: key 'peers': '10.0.0.2:7300' is not a peer name", 0),
            0u);
  EXPECT_EQ(ErrorOf(peers + "  lab2: {kid: " + kKid + "}\nclaims:\n  - cpu.vcpus: {min: 1}\n"),
            "p.yaml:3: key 'peers.lab2': the same kid as peer 'lab'");
  EXPECT_EQ(ErrorOf("peers:\n  lab: {host: x}\nclaims:\n  - cpu.vcpus: {min: 1}\n"),
            "p.yaml:2: unknown key 'peers.lab.host' (known: kid)");
  // Peers alone require nothing.
  EXPECT_EQ(ErrorOf(peers).rfind("p.yaml:1: the policy requires nothing", 0), 0u);
}

TEST(policy_parse_test, findings_and_meter_ages) {
  auto p = ParsePolicy(
      "findings: {forbid: [memory_total_mismatch, throttled], max: 0}\nmeters:\n  disk.io: {max_age_seconds: "
      "3600}\n  gpu.devices: {max_age_seconds: 60}\n",
      "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_TRUE(p->findings);
  EXPECT_EQ(p->findings->forbid, (std::vector<std::string>{"memory_total_mismatch", "throttled"}));
  EXPECT_EQ(p->findings->max, 0);
  ASSERT_EQ(p->meter_ages.size(), 2u);
  EXPECT_EQ(p->meter_ages[0].meter, "disk.io");
  EXPECT_EQ(p->meter_ages[0].max_age_seconds, 3600);
  EXPECT_EQ(p->meter_ages[1].line, 4);

  EXPECT_EQ(ErrorOf("findings: {forbid: [Memory Mismatch]}\n")
                .rfind("p.yaml:1: key 'findings.forbid': 'Memory Mismatch' is not a finding code", 0),
            0u);
  EXPECT_EQ(ErrorOf("findings: {max: -1}\n"),
            "p.yaml:1: key 'findings.max': expected a whole number from 0 to 1000000, got -1");
  EXPECT_EQ(ErrorOf("findings: {allow: [x]}\n"),
            "p.yaml:1: unknown key 'findings.allow' (known: forbid, max)");
  EXPECT_EQ(ErrorOf("findings: []\n").rfind("p.yaml:1: key 'findings': expected a mapping", 0), 0u);
  EXPECT_EQ(ErrorOf("meters:\n  disk: {max_age_seconds: 1}\n"),
            "p.yaml:2: key 'meters': 'disk' is not a meter name (like disk.io, cpu.frequency)");
  EXPECT_EQ(ErrorOf("meters:\n  disk.io: {max_age: 1}\n"),
            "p.yaml:2: unknown key 'meters.disk.io.max_age' (known: max_age_seconds)");
  EXPECT_EQ(ErrorOf("meters:\n  disk.io: {max_age_seconds: 0}\n"),
            "p.yaml:2: key 'meters.disk.io.max_age_seconds': must be greater than 0, got 0");
  EXPECT_EQ(ErrorOf("meters:\n  disk.io: 3600\n").rfind("p.yaml:2: key 'meters.disk.io': expected", 0), 0u);
}

TEST(policy_parse_test, bad_yaml_and_empty_policies) {
  EXPECT_EQ(ErrorOf("claims:\n  - cpu.vcpus: {min: [8\n").rfind("p.yaml:", 0), 0u);
  EXPECT_NE(ErrorOf("claims: [\n").find("invalid YAML"), std::string::npos);
  EXPECT_EQ(ErrorOf(""), "p.yaml: the policy is empty");
  EXPECT_EQ(ErrorOf("- a\n- b\n").rfind("p.yaml:1: expected a mapping", 0), 0u);
  EXPECT_EQ(ErrorOf("name: nothing\nclaims: []\n").rfind("p.yaml:1: the policy requires nothing", 0), 0u);
}

TEST(policy_parse_test, echoed_values_stay_on_one_line) {
  EXPECT_EQ(ErrorOf("claims:\n  - cpu.vcpus: {min: \"8\\nGB\"}\n"),
            "p.yaml:2: key 'cpu.vcpus.min': expected a number, got '8\\nGB'");
}

TEST(policy_parse_test, missing_file_is_not_found) {
  auto p = LoadPolicyFile("/nonexistent/policy.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Status::Code::kNotFound);
}

TEST(policy_parse_test, shipped_example_policies_parse) {
  const std::filesystem::path dir = std::filesystem::path(RESMETER_SOURCE_DIR) / "configs/policies";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    auto p = LoadPolicyFile(entry.path().string());
    EXPECT_TRUE(p.ok()) << p.status().message();
    ++n;
  }
  EXPECT_GE(n, 2);
}

// The fuzz seeds: the ones showing the new sections parse, every other one
// parses or fails with one line.
TEST(policy_parse_test, fuzz_seeds_parse_or_fail_on_one_line) {
  const std::filesystem::path dir =
      std::filesystem::path(RESMETER_SOURCE_DIR) / "tests/fuzz/corpus/policy_fuzz";
  const std::set<std::string> must_parse = {"evidence_pins.yaml", "peers_findings_meters.yaml",
                                            "small-vm.yaml", "gpu-node.yaml", "dev-laptop.yaml"};
  size_t parsed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto p = LoadPolicyFile(entry.path().string());
    const std::string name = entry.path().filename().string();
    if (must_parse.count(name) != 0) {
      EXPECT_TRUE(p.ok()) << name << ": " << p.status().message();
      parsed += p.ok() ? 1 : 0;
    } else if (!p.ok()) {
      EXPECT_EQ(p.status().message().find('\n'), std::string::npos) << name;
    }
  }
  EXPECT_EQ(parsed, must_parse.size());
  auto bad = LoadPolicyFile((dir / "small-vm-hostport-peer.yaml").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("is a host:port"), std::string::npos) << bad.status().message();
}

TEST(policy_claims_test, table_names_are_unique_and_dotted) {
  std::set<std::string> names;
  for (const auto& spec : PolicyClaimTable()) {
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_NE(std::string(spec.name).find('.'), std::string::npos) << spec.name;
    EXPECT_EQ(FindPolicyClaim(spec.name), &spec);
  }
  EXPECT_EQ(FindPolicyClaim("cpu.nothing"), nullptr);
}

}  // namespace
}  // namespace resmeter
