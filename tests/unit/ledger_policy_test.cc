// Ledger policy assessment: the clauses a ledger can express, judged per
// usage period, grouped into violations, and billed as policy-not-met hours.
#include "ledger/ledger_policy.h"

#include <gtest/gtest.h>

#include "ledger/ledger_audit.h"
#include "ledger/ledger_files.h"
#include "jose/signing_key.h"
#include "support/ledger_generator.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

Policy ParseOrDie(const std::string& yaml) {
  auto p = ParsePolicy(yaml, "p.yaml");
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : Policy{};
}

LedgerStatement Usage(uint64_t seq, double vcpus, double delivered_ratio, double gib, double gpus,
                      bool trusted) {
  LedgerStatement s;
  s.seq = seq;
  s.start_unix_seconds = 1'800'000'000 + 60.0 * static_cast<double>(seq);
  s.end_unix_seconds = s.start_unix_seconds + 60;
  s.vcpu_delivered_seconds = 60 * vcpus * delivered_ratio;
  s.vcpu_stolen_seconds = 60 * vcpus * (1 - delivered_ratio);
  s.memory_gib_seconds = 60 * gib;
  s.gpu_seconds = 60 * gpus;
  s.time_trusted = trusted;
  if (!trusted) s.time_reason = "chronyd not reachable";
  return s;
}

TEST(ledger_policy_test, findings_and_meter_ages_are_not_assessable) {
  LedgerPolicyAssessor a(ParseOrDie(
      "findings: {forbid: [memory_total_mismatch], max: 0}\nmeters:\n  disk.io: {max_age_seconds: 3600}\n"));
  EXPECT_EQ(a.not_assessable(), (std::vector<std::string>{"findings.forbid", "findings.max <= 0",
                                                          "meters.disk.io.age_seconds <= 3600 s"}));
  EXPECT_EQ(a.Assess(Usage(1, 8, 0.98, 64, 2, true)), std::nullopt);  // nothing the ledger can judge
}

TEST(ledger_policy_test, judges_expressible_clauses_and_lists_the_rest) {
  LedgerPolicyAssessor a(ParseOrDie(R"(time: {require_trusted: true, max_error_bound_seconds: 0.1}
evidence: {accept: [tdx]}
max_report_age_seconds: 60
claims:
  - cpu.vcpus: {min: 8}
  - cpu.availability_ratio: {min: 0.95}
  - memory.total_gib: {min: 64}
  - gpu.count: {equals: 2}
  - memory.triad_gb_per_second: {min: 100}
)"));
  EXPECT_EQ(
      a.not_assessable(),
      (std::vector<std::string>{"memory.triad_gb_per_second >= 100 GB/s", "time.error_bound_seconds <= 0.1 s",
                                "evidence (accepted types and measurements)", "report.age_seconds <= 60 s"}));
  EXPECT_EQ(a.Assess(Usage(1, 8, 0.98, 64, 2, true)), false);
  // Sampling jitter: 7.998 vCPUs on average still counts as 8.
  LedgerStatement jitter = Usage(2, 8, 0.98, 64, 2, true);
  jitter.vcpu_delivered_seconds -= 0.01;
  EXPECT_EQ(a.Assess(jitter), false);
  EXPECT_EQ(a.Assess(Usage(3, 6, 0.98, 64, 2, true)), true);
  EXPECT_EQ(a.Assess(Usage(4, 7, 0.98, 64, 2, true)), true);  // same clause: grouped with seq 3
  EXPECT_EQ(a.Assess(Usage(5, 8, 0.90, 64, 2, false)), true);
  EXPECT_EQ(a.Assess(Usage(6, 8, 0.98, 32, 1, true)), true);
  ASSERT_EQ(a.violations().size(), 3u);
  const auto& v = a.violations();
  EXPECT_EQ(v[0].first_seq, 3u);
  EXPECT_EQ(v[0].last_seq, 4u);
  ASSERT_EQ(v[0].failures.size(), 1u);
  EXPECT_EQ(v[0].failures[0].name, "cpu.vcpus");
  EXPECT_EQ(v[0].failures[0].Measured(), "6 .. 7");
  ASSERT_EQ(v[1].failures.size(), 2u);
  EXPECT_EQ(v[1].failures[0].name, "cpu.availability_ratio");
  EXPECT_EQ(v[1].failures[0].Measured(), "0.9");
  EXPECT_EQ(v[1].failures[1].name, "time.trusted");
  EXPECT_EQ(v[1].failures[1].Measured(), "untrusted: chronyd not reachable");
  ASSERT_EQ(v[2].failures.size(), 2u);
  EXPECT_EQ(v[2].failures[0].Measured(), "32 GiB");
  EXPECT_EQ(v[2].failures[1].Measured(), "1");
  const nlohmann::json j = a.ToJson();
  EXPECT_EQ(j["violations"].size(), 3u);
  EXPECT_EQ(j["assessed_clauses"].size(), 5u);
}

TEST(ledger_policy_test, nothing_assessable_is_not_evaluated) {
  LedgerPolicyAssessor a(ParseOrDie("claims:\n  - disk.rand_read_iops: {min: 1, queue_depth: 32}\n"));
  EXPECT_EQ(a.Assess(Usage(1, 8, 0.98, 64, 2, true)), std::nullopt);
  EXPECT_EQ(a.not_assessable().size(), 1u);
}

TEST(ledger_policy_test, audit_bills_policy_not_met_hours) {
  TempDir tmp;
  auto key = *SigningKey::Generate(kAlgEdDSA);
  LedgerGeneratorOptions g;
  g.dir = tmp.path() + "/ledger";
  g.usage_statements = 120;  // 2 hours of one-minute periods, 4 vCPUs at 98 %
  g.untrusted_from = 30;
  g.untrusted_to = 45;  // 15 minutes of untrusted time
  ASSERT_TRUE(GenerateLedger(g, key).ok());
  LedgerPolicyAssessor a(ParseOrDie("time: {require_trusted: true}\nclaims:\n  - cpu.vcpus: {min: 4}\n"));
  LedgerAuditOptions o;
  o.evidence.allow_none = true;  // a development ledger ("none" evidence)
  o.now_unix_seconds = 2'000'000'000;
  o.policy_violated = [&a](const LedgerStatement& s) { return a.Assess(s); };
  auto files = ExpandLedgerPaths({g.dir});
  ASSERT_TRUE(files.ok());
  auto r = AuditLedger(*files, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->clean());
  ASSERT_TRUE(r->bill.totals.policy_violation_hours.has_value());
  EXPECT_NEAR(*r->bill.totals.policy_violation_hours, 0.25, 1e-9);
  ASSERT_EQ(a.violations().size(), 1u);
  // 15 usage periods in one run.
  EXPECT_EQ(a.violations()[0].last_seq - a.violations()[0].first_seq, 14u);

  // Ordered 5 vCPUs: every period violates.
  LedgerPolicyAssessor five(ParseOrDie("claims:\n  - cpu.vcpus: {min: 5}\n"));
  o.policy_violated = [&five](const LedgerStatement& s) { return five.Assess(s); };
  r = AuditLedger(*files, o);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(*r->bill.totals.policy_violation_hours, 2.0, 1e-9);
}

}  // namespace
}  // namespace resmeter
