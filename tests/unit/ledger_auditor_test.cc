// LedgerAuditor fed in chunks must decide exactly as AuditLedger over the
// files: same findings, epochs and bill (the collector audits incrementally).
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "jose/signing_key.h"
#include "ledger/ledger_audit.h"
#include "ledger/ledger_files.h"
#include "support/ledger_generator.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

std::vector<std::string> ReadLines(const std::vector<std::string>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
  }
  return out;
}

void ExpectSameAudit(const LedgerAuditResult& a, const LedgerAuditResult& b) {
  EXPECT_EQ(a.statements, b.statements);
  EXPECT_EQ(a.errors, b.errors);
  ASSERT_EQ(a.findings.size(), b.findings.size());
  for (size_t i = 0; i < a.findings.size(); ++i) {
    EXPECT_EQ(a.findings[i].kind, b.findings[i].kind);
    EXPECT_EQ(a.findings[i].seq, b.findings[i].seq);
  }
  EXPECT_EQ(a.epochs.size(), b.epochs.size());
  EXPECT_DOUBLE_EQ(a.bill.totals.delivered_vcpu_hours, b.bill.totals.delivered_vcpu_hours);
  EXPECT_DOUBLE_EQ(a.bill.totals.covered_hours, b.bill.totals.covered_hours);
  EXPECT_DOUBLE_EQ(a.bill.totals.restart_gap_hours, b.bill.totals.restart_gap_hours);
  EXPECT_EQ(a.bill.hours.size(), b.bill.hours.size());
}

class LedgerAuditorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LedgerGeneratorOptions o;
    o.dir = dir_.path() + "/ledger";
    o.usage_statements = 300;
    o.restarts = 2;
    o.new_key_per_restart = true;
    o.checkpoint_every = 50;
    auto key = SigningKey::Generate(kAlgEdDSA);
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(GenerateLedger(o, *key).ok());
    auto files = ExpandLedgerPaths({o.dir});
    ASSERT_TRUE(files.ok());
    files_ = *files;
    options_.evidence.allow_none = true;
    options_.now_unix_seconds = 1'900'000'000;
  }
  TempDir dir_;
  std::vector<std::string> files_;
  LedgerAuditOptions options_;
};

TEST_F(LedgerAuditorTest, ChunksGiveTheWholeAudit) {
  auto whole = AuditLedger(files_, options_);
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  EXPECT_TRUE(whole->clean());
  const auto lines = ReadLines(files_);
  std::mt19937 rng(7);
  LedgerAuditor auditor(options_);
  auditor.AddSource("feed");
  for (size_t i = 0; i < lines.size();) {
    const size_t n = std::min<size_t>(lines.size() - i, 1 + rng() % 37);
    std::vector<LedgerChainLine> batch;
    for (size_t k = 0; k < n; ++k) {
      LedgerChainLine l;
      l.text = lines[i + k];
      l.line = i + k + 1;
      batch.push_back(l);
    }
    auditor.Feed(batch);
    i += n;
    EXPECT_EQ(auditor.partial().last_seq, i);  // every line so far authentic and linked
  }
  auto chunked = auditor.Finish();
  ASSERT_TRUE(chunked.ok());
  ExpectSameAudit(*whole, *chunked);
  auto from_lines = AuditLedgerLines(lines, "lines", options_);
  ASSERT_TRUE(from_lines.ok());
  ExpectSameAudit(*whole, *from_lines);
}

TEST_F(LedgerAuditorTest, TamperedLineSameFindingsInChunks) {
  auto lines = ReadLines(files_);
  // Edit a usage line's delivered seconds: bad_signature then broken_link, as in the file audit.
  std::string& l = lines[10];
  const size_t v = l.find("\"vcpu_delivered_seconds\":");
  ASSERT_NE(v, std::string::npos);
  l = l.substr(0, v + 25) + "9" + l.substr(v + 25);  // not insert(): GCC 12 warns -Wrestrict falsely
  const std::string path = dir_.path() + "/tampered.jsonl";
  {
    std::ofstream out(path);
    for (const auto& x : lines) out << x << "\n";
  }
  auto whole = AuditLedger({path}, options_);
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(whole->clean());
  auto from_lines = AuditLedgerLines(lines, path, options_);
  ASSERT_TRUE(from_lines.ok());
  ExpectSameAudit(*whole, *from_lines);
  bool bad_signature = false;
  for (const auto& f : from_lines->findings) bad_signature = bad_signature || f.kind == "bad_signature";
  EXPECT_TRUE(bad_signature);
}

TEST(LedgerAuditorEmpty, NoStatementIsAnError) {
  LedgerAuditOptions o;
  EXPECT_FALSE(AuditLedgerLines({}, "none", o).ok());
  EXPECT_FALSE(AuditLedgerLines({"not json"}, "garbage", o).ok());
}

}  // namespace
}  // namespace resmeter
