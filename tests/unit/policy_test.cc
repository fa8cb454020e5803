// Policy files: the parser accepts the documented format and rejects every
// user mistake with one "FILE:LINE: message" naming the key.
#include "reporter/policy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "reporter/policy_claims.h"

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

TEST(policy_parse_test, full_policy) {
  auto p = ParsePolicy(R"(name: small
description: test
max_report_age_seconds: 600
time: {require_trusted: true, max_error_bound_seconds: 0.1}
evidence:
  accept: [sev-snp, tdx]
  measurements: {sev-snp: [AABB], tdx: [ccdd]}
claims:
  - cpu.vcpus: {min: 8, max: 16}
  - disk.rand_read_p99_ms: {max: 1, queue_depth: 32}
  - net.download_gbit_per_second: {min: 9, peer: "10.0.0.2:7300"}
  - gpu.model: {equals: NVIDIA H100}
  - gpu.count: {equals: 8}
)",
                       "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->name, "small");
  EXPECT_EQ(p->max_report_age_seconds, 600);
  EXPECT_TRUE(p->require_trusted_time);
  EXPECT_EQ(p->max_time_error_bound_seconds, 0.1);
  ASSERT_TRUE(p->evidence);
  EXPECT_EQ(p->evidence->accept, (std::vector<std::string>{"sev-snp", "tdx"}));
  EXPECT_EQ(p->evidence->measurements.at("sev-snp"), std::vector<std::string>{"aabb"});  // lowercased
  ASSERT_EQ(p->clauses.size(), 5u);
  EXPECT_EQ(p->clauses[0].claim, "cpu.vcpus");
  EXPECT_EQ(p->clauses[0].min, 8);
  EXPECT_EQ(p->clauses[0].max, 16);
  EXPECT_EQ(p->clauses[0].line, 9);
  EXPECT_EQ(p->clauses[1].queue_depth, 32);
  EXPECT_EQ(p->clauses[1].DisplayName(), "disk.rand_read_p99_ms[qd=32]");
  EXPECT_EQ(p->clauses[2].peer, "10.0.0.2:7300");
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
  EXPECT_EQ(ErrorOf("evidence:\n  measurements: [aa]\n"),
            "p.yaml:2: key 'evidence': needs 'accept: [evidence types]'");
  EXPECT_EQ(ErrorOf("evidence:\n  accept: [tdx]\n  measurements: [xyz]\n"),
            "p.yaml:3: key 'evidence.measurements': 'xyz' is not a hex measurement");
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
