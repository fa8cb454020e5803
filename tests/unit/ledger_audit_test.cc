#include "ledger/ledger_audit.h"

#include <gtest/gtest.h>

#include "ledger_test_support.h"
#include "ledger/ledger_files.h"
#include "ledger/ledger_statement.h"
#include "ledger/ledger_writer.h"
#include "jose/signing_key.h"
#include "support/ledger_generator.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

// A usage statement delivering one vCPU-second over [start, end), with its time trust.
LedgerUsage OneVcpuSecond(double start, double end, bool trusted, const std::string& time_reason) {
  LedgerUsage u;
  u.start_unix_seconds = start;
  u.end_unix_seconds = end;
  u.vcpu_delivered_seconds = 1;
  u.time_trusted = trusted;
  u.time_reason = time_reason;
  return u;
}

constexpr double kT0 = 1'800'000'000;

// Audit options for development ledgers ("none" evidence allowed).
LedgerAuditOptions DevOptions() {
  LedgerAuditOptions o;
  o.evidence.allow_none = true;
  o.now_unix_seconds = kLedgerTestAuditTime;
  o.threads = 2;
  return o;
}

// A 57-line ledger in one file: seq 1 epoch statement, usage seq 2..56,
// shutdown checkpoint 57; every line signed.
class LedgerAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = *SigningKey::Generate(kAlgEdDSA);
    LedgerGeneratorOptions o;
    o.dir = tmp_.path() + "/ledger";
    o.usage_statements = 55;
    o.start_unix_seconds = kT0;
    auto sum = GenerateLedger(o, key_);
    ASSERT_TRUE(sum.ok()) << sum.status().message();
    summary_ = *sum;
    path_ = o.dir + "/" + LedgerFileName(1);
    lines_ = ReadLines(path_);
    ASSERT_EQ(lines_.size(), 57u);
  }
  // Line of seq s (1-based, as written).
  std::string& Line(uint64_t seq) { return lines_[seq - 1]; }
  LedgerAuditResult Audit(const LedgerAuditOptions& options = DevOptions()) {
    WriteLines(path_, lines_);
    auto r = AuditLedger({path_}, options);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : LedgerAuditResult{};
  }
  // The finding of `kind`, or fails.
  static LedgerFinding Find(const LedgerAuditResult& r, const std::string& kind) {
    for (const auto& f : r.findings) {
      if (f.kind == kind) return f;
    }
    ADD_FAILURE() << "no '" << kind << "' finding in:\n" << Describe(r);
    return {};
  }
  static std::string Describe(const LedgerAuditResult& r) {
    std::string s;
    for (const auto& f : r.findings)
      s +=
          f.kind + " [" + std::to_string(f.seq) + ".." + std::to_string(f.seq_end) + "]: " + f.message + "\n";
    return s;
  }
  static bool Names(const LedgerFinding& f, uint64_t seq) {
    return f.message.find("seq " + std::to_string(seq)) != std::string::npos ||
           f.message.find(".." + std::to_string(seq)) != std::string::npos;
  }

  TempDir tmp_;
  std::shared_ptr<SigningKey> key_;
  LedgerGeneratorSummary summary_;
  std::string path_;
  std::vector<std::string> lines_;
};

TEST_F(LedgerAuditTest, genuine_ledger_is_clean_and_billed) {
  auto r = Audit();
  EXPECT_TRUE(r.clean()) << Describe(r);
  EXPECT_TRUE(r.findings.empty()) << Describe(r);
  EXPECT_TRUE(LedgerAuditVerdict(r).accepted());
  EXPECT_EQ(r.statements, 57u);
  EXPECT_EQ(r.signatures_verified, 57u);
  EXPECT_NEAR(r.bill.totals.delivered_vcpu_hours, summary_.delivered_vcpu_seconds / 3600, 1e-9);
  EXPECT_NEAR(r.bill.totals.stolen_vcpu_hours, summary_.stolen_vcpu_seconds / 3600, 1e-9);
  EXPECT_NEAR(r.bill.totals.memory_gib_hours, summary_.memory_gib_seconds / 3600, 1e-9);
  EXPECT_NEAR(r.bill.totals.gpu_hours, summary_.gpu_seconds / 3600, 1e-9);
  EXPECT_FALSE(r.bill.totals.policy_violation_hours.has_value());
  // One thread gives the same answer.
  auto o = DevOptions();
  o.threads = 1;
  auto one = Audit(o);
  EXPECT_EQ(one.statements, r.statements);
  EXPECT_EQ(one.bill.totals.delivered_vcpu_hours, r.bill.totals.delivered_vcpu_hours);
}

TEST_F(LedgerAuditTest, deleted_line_is_named_and_the_rest_still_billed) {
  lines_.erase(lines_.begin() + 19);  // seq 20
  auto r = Audit();
  EXPECT_FALSE(r.clean());
  auto f = Find(r, "missing");
  EXPECT_EQ(f.seq, 20u);
  EXPECT_EQ(f.seq_end, 20u);
  EXPECT_TRUE(Names(f, 20)) << f.message;
  EXPECT_EQ(Find(r, "time_gap").seq_end, 21u);  // and its minute is not covered
  EXPECT_EQ(r.errors, 2u) << Describe(r);
  EXPECT_EQ(r.bill.totals.statements, 54u);
}

TEST_F(LedgerAuditTest, swapped_pair_is_named) {
  std::swap(Line(30), Line(31));
  auto r = Audit();
  EXPECT_FALSE(r.clean());
  auto f = Find(r, "out_of_order");
  EXPECT_EQ(f.seq, 30u);
  EXPECT_TRUE(Names(f, 30)) << f.message;
}

TEST_F(LedgerAuditTest, duplicated_line_is_named_and_billed_once) {
  lines_.insert(lines_.begin() + 40, Line(40));
  auto r = Audit();
  EXPECT_FALSE(r.clean());
  auto f = Find(r, "duplicate");
  EXPECT_EQ(f.seq, 40u);
  EXPECT_TRUE(Names(f, 40)) << f.message;
  EXPECT_EQ(r.bill.totals.statements, 55u);
}

TEST_F(LedgerAuditTest, edited_value_is_named_and_not_billed) {
  std::string& l = Line(25);
  const size_t at = l.find("\"vcpu_delivered_seconds\":");
  ASSERT_NE(at, std::string::npos);
  l.replace(at, 26, "\"vcpu_delivered_seconds\":9");  // 235.2 -> 935.2
  auto r = Audit();
  EXPECT_FALSE(r.clean());
  auto f = Find(r, "bad_signature");
  EXPECT_EQ(f.seq, 25u);
  EXPECT_TRUE(Names(f, 25)) << f.message;
  EXPECT_EQ(Find(r, "broken_link").seq, 26u);  // seq 26 follows the genuine seq 25
  EXPECT_EQ(r.bill.totals.statements, 54u);
  EXPECT_LT(r.bill.totals.delivered_vcpu_hours, summary_.delivered_vcpu_seconds / 3600);
}

TEST_F(LedgerAuditTest, edited_epoch_statement_authenticates_nothing) {
  Line(1).replace(Line(1).find("new ledger"), 10, "NEW ledger");
  auto r = Audit();
  EXPECT_EQ(Find(r, "bad_signature").seq, 1u);
  EXPECT_TRUE(HasFinding(r, "wrong_key")) << Describe(r);
  EXPECT_EQ(r.bill.totals.statements, 0u);
  EXPECT_FALSE(LedgerAuditVerdict(r).accepted());
}

TEST_F(LedgerAuditTest, forged_line_under_the_agents_kid_is_named) {
  // Someone without the agent's key replaces usage seq 18, chaining it
  // correctly and naming the agent's kid, but signing with another key.
  auto forger = *SigningKey::Generate(kAlgEdDSA);
  auto usage = *ParseLedgerLine(Line(18));
  usage.vcpu_delivered_seconds *= 10;
  Line(18) = *SealLedgerStatement(usage, *forger);
  auto r = Audit();
  EXPECT_FALSE(r.clean());
  auto f = Find(r, "bad_signature");
  EXPECT_EQ(f.seq, 18u);
  EXPECT_EQ(r.bill.totals.statements, 54u);
}

TEST_F(LedgerAuditTest, truncated_tail_is_a_coverage_gap) {
  lines_.resize(50);  // drops usage 51..56 and the shutdown checkpoint
  auto o = DevOptions();
  o.from_unix_seconds = kT0;
  o.to_unix_seconds = kT0 + 55 * 60;
  auto r = Audit(o);
  EXPECT_TRUE(r.clean()) << Describe(r);
  EXPECT_EQ(r.bill.totals.statements, 49u);
  EXPECT_NEAR(r.bill.totals.covered_hours, 49 / 60.0, 1e-9);  // of 55 minutes asked for
}

TEST_F(LedgerAuditTest, replayed_earlier_statement_is_named) {
  // A second version of seq 33 that follows the same seq 32, appended at the end.
  auto s = *ParseLedgerLine(Line(33));
  s.vcpu_delivered_seconds = 1;
  lines_.push_back(*SealLedgerStatement(s, *key_));
  auto r = Audit();
  EXPECT_FALSE(r.clean());
  auto f = Find(r, "out_of_order");
  EXPECT_EQ(f.seq, 33u);
  EXPECT_TRUE(Names(f, 33)) << f.message;
  EXPECT_EQ(r.bill.totals.statements, 55u);
}

TEST_F(LedgerAuditTest, malformed_and_torn_lines_are_reported) {
  lines_.insert(lines_.begin() + 5, "not json");
  WriteLines(path_, lines_);
  { std::ofstream(path_, std::ios::app) << "{\"v\":2,\"se"; }
  auto r = AuditLedger({path_}, DevOptions());
  ASSERT_TRUE(r.ok());
  auto m = Find(*r, "malformed");
  EXPECT_EQ(m.line, 6u);
  auto t = Find(*r, "torn_line");
  EXPECT_EQ(t.severity, LedgerFindingSeverity::kWarning);
}

TEST_F(LedgerAuditTest, unusable_input_is_an_error) {
  EXPECT_EQ(AuditLedger({tmp_.path() + "/nope"}, DevOptions()).status().code(), Status::Code::kNotFound);
  WriteLines(path_, {});
  EXPECT_EQ(AuditLedger({path_}, DevOptions()).status().code(), Status::Code::kInvalidArgument);
  WriteLines(path_, {"garbage", "{\"kty\":\"OKP\"}"});  // not a ledger at all
  EXPECT_EQ(AuditLedger({path_}, DevOptions()).status().code(), Status::Code::kInvalidArgument);
}

TEST(ledger_audit_time_test, gaps_without_epoch_and_untrusted_periods_are_listed) {
  TempDir tmp;
  auto key = *SigningKey::Generate(kAlgEdDSA);
  LedgerWriterOptions o;
  o.dir = tmp.path() + "/l";
  auto w = LedgerWriter::Open(o, key, LedgerClock{kT0, true, ""}).value();
  ASSERT_TRUE(w->AppendUsage(OneVcpuSecond(kT0, kT0 + 60, true, "")).ok());
  ASSERT_TRUE(w->AppendUsage(OneVcpuSecond(kT0 + 60, kT0 + 120, false, "not synchronized")).ok());
  ASSERT_TRUE(w->AppendUsage(OneVcpuSecond(kT0 + 120, kT0 + 180, false, "not synchronized")).ok());
  ASSERT_TRUE(w->AppendUsage(OneVcpuSecond(kT0 + 600, kT0 + 660, true, "")).ok());  // 420 s unexplained
  ASSERT_TRUE(w->AppendUsage(OneVcpuSecond(kT0 + 630, kT0 + 690, true, "")).ok());  // overlaps
  ASSERT_TRUE(w->Close().ok());
  auto r = *AuditLedger(*ListLedgerFiles(o.dir), DevOptions());
  bool gap = false, back = false;
  for (const auto& f : r.findings) {
    gap = gap || (f.kind == "time_gap" && f.seq == 4 && f.seq_end == 5);
    back = back || (f.kind == "overlap" && f.seq == 6);
  }
  EXPECT_TRUE(gap) << DescribeFindings(r);
  EXPECT_TRUE(back) << DescribeFindings(r);
  ASSERT_EQ(r.untrusted_periods.size(), 1u);
  EXPECT_EQ(r.untrusted_periods[0].first_seq, 3u);
  EXPECT_EQ(r.untrusted_periods[0].last_seq, 4u);
  EXPECT_EQ(r.untrusted_periods[0].reason, "not synchronized");
  EXPECT_NEAR(r.bill.totals.untrusted_time_hours, 120 / 3600.0, 1e-9);
}

TEST(ledger_audit_bill_test, range_prorates_and_policy_hook_counts_hours) {
  TempDir tmp;
  auto key = *SigningKey::Generate(kAlgEdDSA);
  LedgerGeneratorOptions g;
  g.dir = tmp.path() + "/l";
  g.usage_statements = 120;  // two hours from kT0
  g.start_unix_seconds = kT0;
  ASSERT_TRUE(GenerateLedger(g, key).ok());
  LedgerAuditOptions o = DevOptions();
  o.from_unix_seconds = kT0 + 1800 + 30;  // mid-statement: prorated
  o.to_unix_seconds = kT0 + 5400 + 30;
  o.policy_violated = [](const LedgerStatement& s) -> std::optional<bool> { return s.seq % 2 == 0; };
  auto r = *AuditLedger(*ListLedgerFiles(g.dir), o);
  EXPECT_TRUE(r.clean());
  EXPECT_NEAR(r.bill.totals.covered_hours, 1.0, 1e-9);
  EXPECT_NEAR(r.bill.totals.delivered_vcpu_hours, 4 * 0.98, 1e-9);
  EXPECT_NEAR(r.bill.totals.gpu_hours, 1.0, 1e-9);
  ASSERT_TRUE(r.bill.totals.policy_violation_hours.has_value());
  EXPECT_NEAR(*r.bill.totals.policy_violation_hours, 0.5, 0.02);
  double hours = 0;
  for (const auto& h : r.bill.hours) {
    EXPECT_EQ(h.hour_start_unix_seconds % 3600, 0);
    hours += h.totals.covered_hours;
  }
  EXPECT_NEAR(hours, 1.0, 1e-9);
}

}  // namespace
}  // namespace resmeter
