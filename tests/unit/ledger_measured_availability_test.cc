// Measured availability in the ledger: the statement members (additive,
// optional) and the bill that prefers them to the host's steal.
#include <gtest/gtest.h>

#include "ledger/ledger_bill.h"
#include "ledger/ledger_statement.h"
#include "jose/signing_key.h"

namespace resmeter {
namespace {

// One key for the whole file: every v2 line is signed.
const SigningKey& TestKey() {
  static const std::shared_ptr<SigningKey> key = *SigningKey::Generate("EdDSA");
  return *key;
}

// The statement sealed into a complete line (body + detached signature).
std::string Seal(const LedgerStatement& s) {
  auto line = SealLedgerStatement(s, TestKey());
  EXPECT_TRUE(line.ok()) << line.status().message();
  return line.ok() ? *line : std::string();
}

LedgerStatement MeasuredUsage() {
  LedgerStatement s;
  s.seq = 3;
  s.prev = std::string(kLedgerGenesisPrev);
  s.kind = LedgerKind::kUsage;
  s.kid = TestKey().Thumbprint();
  s.start_unix_seconds = 1800000000;
  s.end_unix_seconds = 1800000060;
  s.vcpu_delivered_seconds = 240;
  s.time_trusted = true;
  s.availability.sampled = true;
  s.availability.samples = 8;
  s.availability.measured_ratio = 0.5;
  s.availability.vcpus = 4;
  s.availability.sampler_cpu_ratio = 0.0042;
  return s;
}

TEST(ledger_measured_availability_test, members_round_trip_canonically) {
  const std::string body = SerializeLedgerBody(MeasuredUsage());
  EXPECT_NE(body.find("\"vcpu_availability_measured_ratio\":0.5"), std::string::npos) << body;
  auto back = ParseLedgerLine(Seal(MeasuredUsage()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->availability.sampled);
  EXPECT_EQ(back->availability.samples, 8u);
  EXPECT_DOUBLE_EQ(back->availability.measured_ratio, 0.5);
  EXPECT_EQ(back->availability.vcpus, 4u);
  EXPECT_DOUBLE_EQ(back->availability.sampler_cpu_ratio, 0.0042);
  EXPECT_EQ(SerializeLedgerBody(*back), body);
}

TEST(ledger_measured_availability_test, without_samples_no_ratio_is_written) {
  LedgerStatement s = MeasuredUsage();
  s.availability.samples = 0;
  const std::string line = Seal(s);
  EXPECT_EQ(line.find("vcpu_availability_measured_ratio"), std::string::npos) << line;
  auto back = ParseLedgerLine(line);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->availability.sampled);
  EXPECT_EQ(back->availability.samples, 0u);
}

TEST(ledger_measured_availability_test, lines_without_the_members_still_parse) {
  LedgerStatement s = MeasuredUsage();
  s.availability.sampled = false;
  const std::string line = Seal(s);
  EXPECT_EQ(line.find("availability"), std::string::npos) << line;
  auto back = ParseLedgerLine(line);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_FALSE(back->availability.sampled);
}

TEST(ledger_measured_availability_test, malformed_members_are_corruption) {
  const std::string good = Seal(MeasuredUsage());
  ASSERT_TRUE(ParseLedgerLine(good).ok());
  auto edit = [&](const std::string& from, const std::string& to) {
    std::string l = good;
    l.replace(l.find(from), from.size(), to);
    return ParseLedgerLine(l);
  };
  EXPECT_FALSE(
      edit("\"vcpu_availability_measured_ratio\":0.5", "\"vcpu_availability_measured_ratio\":1.5").ok());
  EXPECT_FALSE(edit("\"vcpu_availability_samples\":8", "\"vcpu_availability_samples\":0")
                   .ok());  // ratio without samples
  EXPECT_FALSE(edit(",\"vcpus_challenged\":4", "").ok());
  EXPECT_FALSE(edit("\"vcpus_challenged\":4", "\"vcpus_challenged\":0").ok());
  EXPECT_FALSE(
      edit("\"availability_sampler_cpu_ratio\":0.0042", "\"availability_sampler_cpu_ratio\":\"x\"").ok());
  // Only usage statements carry them.
  LedgerStatement c = MeasuredUsage();
  c.kind = LedgerKind::kCheckpoint;
  c.reason = "shutdown";
  c.availability.sampled = false;
  std::string checkpoint = Seal(c);
  ASSERT_TRUE(ParseLedgerLine(checkpoint).ok()) << checkpoint;
  checkpoint.insert(checkpoint.find(",\"sig\""), ",\"vcpu_availability_samples\":1");
  EXPECT_FALSE(ParseLedgerLine(checkpoint).ok());
}

TEST(ledger_measured_availability_test, bill_uses_measured_ratio_and_flags_hidden_loss) {
  LedgerBillBuilder b(std::nullopt, std::nullopt);
  // Two 60 s periods on 4 vCPUs measured at 0.5 while the host reports no steal.
  b.AddUsage(0, 60, 240, 0, 0, 0, true, std::nullopt, {1, 8, 0.5, 4, 0.004});
  b.AddUsage(60, 120, 240, 0, 0, 0, true, std::nullopt, {2, 8, 0.5, 4, 0.005});
  // One unmeasured period: billed from steal.
  b.AddUsage(120, 180, 230, 10, 0, 0, true, std::nullopt, {3, 0, 0, 4, 0.005});
  // A measured period that agrees with the reported steal: no finding.
  b.AddUsage(180, 240, 120, 120, 0, 0, true, std::nullopt, {4, 8, 0.5, 4, 0.005});
  LedgerBill bill = b.Finish();
  const LedgerBillTotals& t = bill.totals;
  EXPECT_NEAR(t.delivered_vcpu_hours, (120 + 120 + 230 + 120) / 3600.0, 1e-12);
  EXPECT_NEAR(t.steal_based_delivered_vcpu_hours, (240 + 240 + 230 + 120) / 3600.0, 1e-12);
  EXPECT_NEAR(t.measured_loss_vcpu_hours, 360 / 3600.0, 1e-12);
  EXPECT_EQ(t.unmeasured_statements, 1u);
  EXPECT_NEAR(t.unmeasured_hours, 60 / 3600.0, 1e-12);
  EXPECT_NEAR(t.measured_hours, 180 / 3600.0, 1e-12);
  EXPECT_EQ(t.availability_samples, 24u);
  EXPECT_DOUBLE_EQ(t.sampler_cpu_ratio_max, 0.005);
  ASSERT_EQ(bill.availability_disagreements.size(), 1u);  // seq 1..2 merged; seq 4 agrees
  const AvailabilityDisagreement& d = bill.availability_disagreements[0];
  EXPECT_EQ(d.first_seq, 1u);
  EXPECT_EQ(d.last_seq, 2u);
  EXPECT_NEAR(d.measured_loss_vcpu_seconds, 240, 1e-9);
  EXPECT_NEAR(d.capacity_vcpu_seconds, 480, 1e-9);
  EXPECT_EQ(d.stolen_vcpu_seconds, 0);
}

TEST(ledger_measured_availability_test, small_unreported_loss_within_tolerance_is_no_finding) {
  LedgerBillBuilder b(std::nullopt, std::nullopt);
  b.AddUsage(0, 60, 240, 0, 0, 0, true, std::nullopt, {1, 8, 0.95, 4, 0.004});  // 5 % < 10 %
  LedgerBill bill = b.Finish();
  EXPECT_TRUE(bill.availability_disagreements.empty());
  EXPECT_NEAR(bill.totals.delivered_vcpu_hours, 240 * 0.95 / 3600, 1e-12);
}

TEST(ledger_measured_availability_test, clipped_range_prorates_the_measured_figure) {
  LedgerBillBuilder b(30.0, std::nullopt);
  b.AddUsage(0, 60, 240, 0, 0, 0, true, std::nullopt, {1, 8, 0.5, 4, 0.004});
  LedgerBill bill = b.Finish();
  EXPECT_NEAR(bill.totals.delivered_vcpu_hours, 60 / 3600.0, 1e-12);
  EXPECT_NEAR(bill.totals.measured_hours, 30 / 3600.0, 1e-12);
}

}  // namespace
}  // namespace resmeter
