#include "ledger/ledger_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ledger_test_support.h"
#include "ledger/ledger_audit.h"
#include "ledger/ledger_files.h"
#include "jose/signing_key.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

constexpr double kT0 = 1'800'000'000;

class LedgerWriterTest : public LedgerWriterFixture {
 protected:
  LedgerAuditResult Audit() {
    auto files = ListLedgerFiles(options_.dir);
    EXPECT_TRUE(files.ok());
    auto r = AuditLedger(*files, evidence_->Options());
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : LedgerAuditResult{};
  }
};

TEST_F(LedgerWriterTest, round_trip_signs_every_statement_and_bills_exactly) {
  auto w = Open(kT0);
  EXPECT_TRUE(w->recovery().new_ledger);
  EXPECT_EQ(w->recovery().epoch_seq, 1u);
  Append(*w, 25, kT0);
  ASSERT_TRUE(w->Close().ok());
  // 1 epoch statement + 25 usage + 1 shutdown checkpoint, every one signed.
  EXPECT_EQ(w->last_seq(), 27u);
  for (const auto& line : ReadLines(w->current_file())) {
    EXPECT_TRUE(VerifyLedgerSignature(line, key_->public_key()).ok()) << line;
  }
  auto r = Audit();
  EXPECT_TRUE(r.clean()) << DescribeFindings(r);
  EXPECT_TRUE(r.findings.empty()) << DescribeFindings(r);
  EXPECT_TRUE(LedgerAuditVerdict(r).accepted()) << LedgerAuditVerdict(r).Line();
  EXPECT_EQ(r.statements, 27u);
  EXPECT_EQ(r.signatures_verified, 27u);
  EXPECT_EQ(r.bill.totals.statements, 25u);
  EXPECT_NEAR(r.bill.totals.delivered_vcpu_hours, 25 * 117.6 / 3600, 1e-9);
  EXPECT_NEAR(r.bill.totals.memory_gib_hours, 25 * 960.0 / 3600, 1e-9);
  EXPECT_NEAR(r.bill.totals.covered_hours, 25 / 60.0, 1e-9);
  ASSERT_EQ(r.epochs.size(), 1u);
  EXPECT_EQ(r.epochs[0].reason, "new ledger");
  EXPECT_EQ(r.epochs[0].kid, key_->Thumbprint());
  EXPECT_EQ(r.epochs[0].key_origin, "ephemeral");
  EXPECT_EQ(r.epochs[0].evidence_type, "sev-snp");
  EXPECT_TRUE(r.epochs[0].evidence_ok) << r.epochs[0].evidence_detail;
}

TEST_F(LedgerWriterTest, reopen_after_shutdown_starts_a_clean_epoch_with_a_new_key) {
  auto w = Open(kT0);
  const std::string first_kid = key_->Thumbprint();
  double t = Append(*w, 3, kT0);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  w = Open(t + 300);
  EXPECT_TRUE(w->recovery().clean);
  EXPECT_EQ(w->recovery().cut_bytes, 0u);
  EXPECT_DOUBLE_EQ(w->recovery().gap_seconds, 300);
  Append(*w, 2, t + 300);
  ASSERT_TRUE(w->Close().ok());
  auto r = Audit();
  EXPECT_TRUE(r.clean()) << DescribeFindings(r);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.epochs[1].reason, "restart after shutdown");
  EXPECT_TRUE(r.epochs[1].clean);
  EXPECT_EQ(r.epochs[1].prev_epoch_kid, first_kid);
  EXPECT_NE(r.epochs[1].kid, first_kid);
  EXPECT_TRUE(r.epochs[1].evidence_ok) << r.epochs[1].evidence_detail;
  EXPECT_DOUBLE_EQ(r.epochs[1].gap_end_unix_seconds - r.epochs[1].gap_start_unix_seconds, 300);
  EXPECT_NEAR(r.bill.totals.restart_gap_hours, 300 / 3600.0, 1e-9);
  EXPECT_EQ(r.bill.totals.statements, 5u);
}

TEST_F(LedgerWriterTest, torn_last_line_is_cut_kept_aside_and_recorded_in_the_epoch) {
  auto w = Open(kT0);
  double t = Append(*w, 4, kT0);
  const std::string path = w->current_file();
  w.reset();  // a crash: no shutdown checkpoint
  const std::string before = SlurpFile(path);
  const std::string torn = "{\"v\":2,\"seq\":6,\"prev\":\"ab";
  { std::ofstream(path, std::ios::app) << torn; }
  w = Open(t + 30);
  EXPECT_FALSE(w->recovery().clean);
  EXPECT_EQ(w->recovery().cut_bytes, torn.size());
  EXPECT_EQ(w->recovery().cut_sha256, LedgerLineHash(torn));
  EXPECT_EQ(w->recovery().cut_file, LedgerFileName(1));
  EXPECT_EQ(SlurpFile(w->recovery().cut_saved_to), torn);
  EXPECT_EQ(w->recovery().last_seq, 5u);
  ASSERT_TRUE(w->Close().ok());
  const std::string after = SlurpFile(path);
  EXPECT_EQ(after.compare(0, before.size(), before), 0) << "accepted statements must never be rewritten";
  auto r = Audit();
  EXPECT_TRUE(r.clean()) << DescribeFindings(r);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.epochs[1].seq, 6u);
  EXPECT_EQ(r.epochs[1].cut_bytes, torn.size());
  EXPECT_EQ(r.epochs[1].cut_sha256, LedgerLineHash(torn));
  EXPECT_FALSE(r.epochs[1].clean);
  EXPECT_EQ(r.epochs[1].reason.rfind("recovered after unclean stop", 0), 0u) << r.epochs[1].reason;
  EXPECT_EQ(FindFinding(r, "cut").severity, LedgerFindingSeverity::kWarning);
  EXPECT_TRUE(LedgerAuditVerdict(r).accepted()) << LedgerAuditVerdict(r).Line();

  // Garbage ending in a newline is cut as well; valid lines before it stay.
  w.reset();
  const std::string before2 = SlurpFile(path);
  const std::string zeros = std::string(40, '\0') + "\n";
  { std::ofstream(path, std::ios::app | std::ios::binary) << zeros; }
  w = Open(t + 60);
  EXPECT_EQ(w->recovery().cut_bytes, zeros.size());
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
  options_.max_file_bytes = 4000;
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
      // A file ends with a rotation checkpoint, or with the shutdown
      // checkpoint when the next start found it full.
      EXPECT_TRUE(last->reason == "rotation" || last->reason == "shutdown") << last->reason;
    }
  }
  auto r = Audit();
  EXPECT_TRUE(r.clean()) << DescribeFindings(r);
  EXPECT_EQ(r.bill.totals.statements, 30u);
}

TEST_F(LedgerWriterTest, an_empty_misnamed_newest_file_is_removed) {
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
  LedgerUsage u{{kT0 + 60, kT0, 1, 0, 0, 0}, true, "", ""};
  EXPECT_EQ(w->AppendUsage(u).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(LedgerWriterTest, a_v1_ledger_is_refused_and_left_alone) {
  std::filesystem::create_directories(options_.dir);
  const std::string v1 = options_.dir + "/" + LedgerFileName(1);
  const std::string line = "{\"v\":1,\"seq\":1,\"prev\":\"" + std::string(kLedgerGenesisPrev) +
                           "\",\"kind\":\"usage\",\"kid\":\"k\",\"start_unix_seconds\":1,\"end_unix_"
                           "seconds\":2,\"vcpu_delivered_seconds\":1,"
                           "\"vcpu_stolen_seconds\":0,\"memory_gib_seconds\":0,\"gpu_seconds\":0,\"report\":"
                           "\"\",\"time_trusted\":true,"
                           "\"time_reason\":\"\"}\n";
  { std::ofstream(v1) << line; }
  key_ = *SigningKey::Generate(kAlgEdDSA);
  auto w = LedgerWriter::Open(options_, key_, LedgerClock{kT0, true, ""});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(w.status().message().find("v1 ledger"), std::string::npos) << w.status().message();
  EXPECT_NE(w.status().message().find("archive"), std::string::npos) << w.status().message();
  EXPECT_EQ(SlurpFile(v1), line);
  auto audit = AuditLedger({v1}, evidence_->Options());
  ASSERT_FALSE(audit.ok());
  EXPECT_NE(audit.status().message().find("v1 usage ledger"), std::string::npos) << audit.status().message();
}

}  // namespace
}  // namespace resmeter
