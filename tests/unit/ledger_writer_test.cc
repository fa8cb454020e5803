#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "reporter/ledger_audit.h"
#include "reporter/ledger_files.h"
#include "reporter/ledger_writer.h"
#include "reporter/signing_key.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

constexpr double kT0 = 1'800'000'000;

class LedgerWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = *SigningKey::Generate(kAlgEdDSA);
    options_.dir = tmp_.path() + "/ledger";
    options_.checkpoint_every = 10;
  }
  std::unique_ptr<LedgerWriter> Open(double now) {
    auto w = LedgerWriter::Open(options_, key_, LedgerClock{now, true, ""});
    EXPECT_TRUE(w.ok()) << w.status().message();
    return w.ok() ? std::move(*w) : nullptr;
  }
  // Appends n one-minute periods from `t`; returns the end time.
  double Append(LedgerWriter& w, int n, double t) {
    for (int i = 0; i < n; ++i, t += 60) {
      LedgerUsage u{t, t + 60, 117.6, 2.4, 960, 0, true, "", ""};
      auto seq = w.AppendUsage(u);
      EXPECT_TRUE(seq.ok()) << seq.status().message();
    }
    return t;
  }
  LedgerAuditResult Audit() {
    auto files = ListLedgerFiles(options_.dir);
    EXPECT_TRUE(files.ok());
    auto r = AuditLedger(*files, key_->public_key(), LedgerAuditOptions{});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : LedgerAuditResult{};
  }
  static std::string Describe(const LedgerAuditResult& r) {
    std::string s;
    for (const auto& f : r.findings) s += f.kind + ": " + f.message + "\n";
    return s;
  }

  TempDir tmp_;
  std::shared_ptr<SigningKey> key_;
  LedgerWriterOptions options_;
};

TEST_F(LedgerWriterTest, round_trip_verifies_and_bills_exactly) {
  auto w = Open(kT0);
  EXPECT_TRUE(w->recovery().new_ledger);
  EXPECT_EQ(w->recovery().restart_seq, 1u);
  Append(*w, 25, kT0);
  ASSERT_TRUE(w->Close().ok());
  // 1 restart marker + 25 usage + 2 interval checkpoints + 1 shutdown checkpoint.
  EXPECT_EQ(w->last_seq(), 29u);
  auto r = Audit();
  EXPECT_TRUE(r.clean()) << Describe(r);
  EXPECT_EQ(r.statements, 29u);
  EXPECT_EQ(r.authenticated_statements, 29u);
  EXPECT_EQ(r.signatures_verified, 4u);
  EXPECT_EQ(r.bill.totals.statements, 25u);
  EXPECT_NEAR(r.bill.totals.delivered_vcpu_hours, 25 * 117.6 / 3600, 1e-9);
  EXPECT_NEAR(r.bill.totals.memory_gib_hours, 25 * 960.0 / 3600, 1e-9);
  EXPECT_NEAR(r.bill.totals.covered_hours, 25 / 60.0, 1e-9);
  ASSERT_EQ(r.restarts.size(), 1u);
  EXPECT_EQ(r.restarts[0].reason, "new ledger");
}

TEST_F(LedgerWriterTest, reopen_after_shutdown_records_the_gap_in_a_clean_restart_marker) {
  auto w = Open(kT0);
  double t = Append(*w, 3, kT0);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  w = Open(t + 300);
  EXPECT_TRUE(w->recovery().clean);
  EXPECT_EQ(w->recovery().torn_bytes, 0u);
  EXPECT_DOUBLE_EQ(w->recovery().gap_seconds, 300);
  Append(*w, 2, t + 300);
  ASSERT_TRUE(w->Close().ok());
  auto r = Audit();
  EXPECT_TRUE(r.clean()) << Describe(r);
  ASSERT_EQ(r.restarts.size(), 2u);
  EXPECT_EQ(r.restarts[1].reason, "restart after shutdown");
  EXPECT_TRUE(r.restarts[1].clean);
  EXPECT_DOUBLE_EQ(r.restarts[1].gap_end_unix_seconds - r.restarts[1].gap_start_unix_seconds, 300);
  EXPECT_NEAR(r.bill.totals.restart_gap_hours, 300 / 3600.0, 1e-9);
}

TEST_F(LedgerWriterTest, torn_last_line_is_cut_reported_and_marked) {
  auto w = Open(kT0);
  double t = Append(*w, 4, kT0);
  const std::string path = w->current_file();
  w.reset();  // a crash: no shutdown checkpoint
  const std::string before = SlurpFile(path);
  const std::string torn = "{\"v\":1,\"seq\":6,\"prev\":\"ab";
  { std::ofstream(path, std::ios::app) << torn; }
  // Half a line whose newline made it but whose start did not (zeros).
  const std::string zeros = std::string(40, '\0') + "\n";
  w = Open(t + 30);
  EXPECT_FALSE(w->recovery().clean);
  EXPECT_EQ(w->recovery().torn_bytes, torn.size());
  EXPECT_EQ(w->recovery().torn_file, path);
  EXPECT_EQ(w->recovery().last_seq, 5u);
  ASSERT_TRUE(w->Close().ok());
  const std::string after = SlurpFile(path);
  EXPECT_EQ(after.compare(0, before.size(), before), 0) << "accepted statements must never be rewritten";
  auto r = Audit();
  EXPECT_TRUE(r.clean()) << Describe(r);
  ASSERT_EQ(r.restarts.size(), 2u);
  EXPECT_EQ(r.restarts[1].seq, 6u);
  EXPECT_EQ(r.restarts[1].torn_bytes, torn.size());
  EXPECT_FALSE(r.restarts[1].clean);
  EXPECT_EQ(r.restarts[1].reason, "recovered after unclean stop");

  // Garbage ending in a newline is cut as well; valid lines before it stay.
  w.reset();
  const std::string before2 = SlurpFile(path);
  { std::ofstream(path, std::ios::app | std::ios::binary) << zeros; }
  w = Open(t + 60);
  EXPECT_EQ(w->recovery().torn_bytes, zeros.size());
  EXPECT_TRUE(w->recovery().clean);
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(SlurpFile(path).compare(0, before2.size(), before2), 0);
  EXPECT_TRUE(Audit().clean());
}

TEST_F(LedgerWriterTest, a_second_writer_is_refused) {
  auto w = Open(kT0);
  auto second = LedgerWriter::Open(options_, key_, LedgerClock{kT0, true, ""});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kPermissionDenied);
}

TEST_F(LedgerWriterTest, rotation_continues_the_chain_across_named_files) {
  options_.max_file_bytes = 2000;
  auto w = Open(kT0);
  double t = Append(*w, 30, kT0);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  w = Open(t);  // reopening appends to the newest file
  ASSERT_TRUE(w->Close().ok());
  auto files = *ListLedgerFiles(options_.dir);
  ASSERT_GE(files.size(), 4u);
  for (size_t i = 0; i < files.size(); ++i) {
    auto lines = ReadLines(files[i]);
    ASSERT_FALSE(lines.empty()) << files[i];
    auto first = ParseLedgerLine(lines.front());
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(files[i], options_.dir + "/" + LedgerFileName(first->seq));
    if (i + 1 < files.size()) {
      auto last = ParseLedgerLine(lines.back());
      EXPECT_EQ(last->kind, LedgerKind::kCheckpoint);
      EXPECT_EQ(last->reason, "rotation");
    }
  }
  auto r = Audit();
  EXPECT_TRUE(r.clean()) << Describe(r);
  EXPECT_EQ(r.bill.totals.statements, 30u);
}

TEST_F(LedgerWriterTest, an_empty_misnamed_newest_file_is_replaced) {
  auto w = Open(kT0);
  double t = Append(*w, 2, kT0);
  ASSERT_TRUE(w->Close().ok());
  const uint64_t last = w->last_seq();
  w.reset();
  { std::ofstream(options_.dir + "/" + LedgerFileName(last + 5)); }  // a rotation cut short
  w = Open(t);
  ASSERT_TRUE(w->Close().ok());
  EXPECT_FALSE(std::filesystem::exists(options_.dir + "/" + LedgerFileName(last + 5)));
  EXPECT_TRUE(Audit().clean());
}

TEST_F(LedgerWriterTest, rejects_a_period_that_ends_before_it_starts) {
  auto w = Open(kT0);
  LedgerUsage u{kT0 + 60, kT0, 1, 0, 0, 0, true, "", ""};
  EXPECT_EQ(w->AppendUsage(u).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace resmeter
