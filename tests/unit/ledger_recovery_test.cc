// Attacks on the usage ledger v2 by the provider (root on the host, the
// agent stopped or crashed): edits, invented statements, forged epochs,
// planted keys. Each would have been billed or authenticated by the v1
// ledger (unsigned usage lines, head adopted by parseability, persistent key).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/strings.h"
#include "ledger_test_support.h"
#include "evidence/evidence.h"
#include "jose/key_store.h"
#include "ledger/ledger_audit.h"
#include "ledger/ledger_files.h"
#include "ledger/ledger_writer.h"
#include "jose/signing_key.h"
#include "support/ledger_generator.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

constexpr double kT0 = 1'800'000'000;

class LedgerRecoveryTest : public LedgerWriterFixture {
 protected:
  void SetUp() override {
    LedgerWriterFixture::SetUp();
    attacker_ = *SigningKey::Generate(kAlgEdDSA);
  }
  LedgerAuditResult Audit(bool allow_dev = false) {
    auto r = AuditLedger(*ListLedgerFiles(options_.dir), evidence_->Options(allow_dev));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : LedgerAuditResult{};
  }
  std::string Path() const { return options_.dir + "/" + LedgerFileName(1); }
  // A usage statement following `prev_line`, signed by `signer` under `kid`.
  static std::string Invent(const std::string& prev_line, const Signer& signer, const std::string& kid,
                            double t) {
    auto prev = ParseLedgerLine(prev_line);
    LedgerStatement s;
    s.seq = prev->seq + 1;
    s.prev = LedgerLineHash(prev_line);
    s.kind = LedgerKind::kUsage;
    s.kid = kid;
    s.start_unix_seconds = t;
    s.end_unix_seconds = t + 60;
    s.vcpu_delivered_seconds = 6000;  // what the provider would like to bill
    s.time_trusted = true;
    return *SealLedgerStatement(s, signer);
  }
  static uint64_t Bytes(const std::vector<std::string>& lines, size_t from) {
    uint64_t n = 0;
    for (size_t i = from; i < lines.size(); ++i) n += lines[i].size() + 1;
    return n;
  }
  // The lines from `from` on as the file holds them (each with its newline).
  static std::string Joined(const std::vector<std::string>& lines, size_t from) {
    std::string out;
    for (size_t i = from; i < lines.size(); ++i) out += lines[i] + "\n";
    return out;
  }
  // Appends to `lines` (which end with an epoch of key_) an epoch statement
  // under the attacker's key with development-mode evidence, or with the
  // first epoch's genuine SEV-SNP evidence replayed, and `usage` invented
  // usage statements under it; returns the forged epoch's seq.
  uint64_t ForgeEpoch(std::vector<std::string>& lines, bool replay, double t, int usage = 5) const {
    LedgerStatement e;
    e.seq = ParseLedgerLine(lines.back())->seq + 1;
    e.prev = LedgerLineHash(lines.back());
    e.kind = LedgerKind::kEpoch;
    e.kid = attacker_->Thumbprint();
    e.start_unix_seconds = e.end_unix_seconds = t;
    e.time_trusted = true;
    e.jwk = attacker_->PublicJwk().dump();
    e.key_origin = "ephemeral";
    e.evidence = replay ? ParseLedgerLine(lines.front())->evidence
                        : nlohmann::json{{"type", "none"},
                                         {"user_data", HexEncode(ComputeUserData(e.kid, ""))},
                                         {"trusted", false},
                                         {"reason", "development mode: no TEE"}}
                              .dump();
    e.prev_epoch_kid = key_->Thumbprint();
    e.reason = "restart after shutdown";
    lines.push_back(*SealLedgerStatement(e, *attacker_));
    for (int i = 0; i < usage; ++i) lines.push_back(Invent(lines.back(), *attacker_, e.kid, t + 60 * i));
    return e.seq;
  }
  // The provider appends a forged epoch (and an hour of usage under it) while
  // the agent, running with SEV-SNP evidence, is stopped; the next start must
  // not adopt it: cut, recorded, not billed, and the audit ACCEPTED.
  void ExpectForgedEpochCut(bool replay) {
    auto w = Open(kT0);
    double t = Append(*w, 5, kT0);
    const std::string genuine_kid = key_->Thumbprint();
    ASSERT_TRUE(w->Close().ok());
    w.reset();
    auto lines = ReadLines(Path());
    const size_t genuine = lines.size();  // epoch, 5 usage, shutdown checkpoint
    const uint64_t forged_seq = ForgeEpoch(lines, replay, t, 60);
    const std::string forged = Joined(lines, genuine);
    WriteLines(Path(), lines);

    w = Open(t + 3600);
    const LedgerRecovery& rec = w->recovery();
    EXPECT_EQ(rec.last_seq, genuine);
    EXPECT_TRUE(rec.clean);
    EXPECT_EQ(rec.cut_bytes, forged.size());
    EXPECT_EQ(rec.cut_sha256, LedgerLineHash(forged));
    EXPECT_NE(rec.cut_reason.find("epoch statement seq " + std::to_string(forged_seq)), std::string::npos)
        << rec.cut_reason;
    EXPECT_NE(
        rec.cut_reason.find(std::string("evidence ") + (replay ? "sev-snp" : "none") + " does not verify"),
        std::string::npos)
        << rec.cut_reason;
    EXPECT_EQ(rec.epoch_seq, genuine + 1);
    EXPECT_EQ(SlurpFile(rec.cut_saved_to), forged);
    Append(*w, 2, t + 3600);
    ASSERT_TRUE(w->Close().ok());
    auto r = Audit();
    EXPECT_TRUE(LedgerAuditVerdict(r).accepted()) << LedgerAuditVerdict(r).Line() << "\n"
                                                  << DescribeFindings(r);
    ASSERT_EQ(r.epochs.size(), 2u);
    EXPECT_EQ(r.epochs[1].prev_epoch_kid, genuine_kid);  // the new epoch vouches for genuine lines only
    EXPECT_NE(r.epochs[1].kid, attacker_->Thumbprint());
    EXPECT_EQ(r.epochs[1].cut_bytes, forged.size());
    EXPECT_EQ(r.epochs[1].cut_sha256, LedgerLineHash(forged));
    EXPECT_EQ(FindFinding(r, "cut").seq, genuine + 1);
    EXPECT_EQ(r.bill.totals.statements, 7u);  // the 5 + 2 genuine periods, none of the invented 60
    EXPECT_NEAR(r.bill.totals.delivered_vcpu_hours, 7 * 117.6 / 3600, 1e-9);
  }

  std::shared_ptr<SigningKey> attacker_;
};

TEST_F(LedgerRecoveryTest, edited_signed_tail_line_is_cut_recorded_and_not_billed) {
  auto w = Open(kT0);
  double t = Append(*w, 10, kT0);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  // Agent stopped: the provider raises seq 8's delivered vCPU-seconds.
  auto lines = ReadLines(Path());
  ASSERT_EQ(lines.size(), 12u);  // epoch, 10 usage (seq 2..11), shutdown checkpoint
  std::string& l = lines[7];
  ASSERT_NE(l.find("\"vcpu_delivered_seconds\":117.6"), std::string::npos);
  l.replace(l.find("\"vcpu_delivered_seconds\":117.6"), 30, "\"vcpu_delivered_seconds\":917.6");
  const uint64_t cut = Bytes(lines, 7);
  WriteLines(Path(), lines);
  // Before the restart, the audit names the edit.
  auto before = Audit();
  EXPECT_FALSE(LedgerAuditVerdict(before).accepted());
  EXPECT_EQ(FindFinding(before, "bad_signature").seq, 8u);

  w = Open(t + 60);
  EXPECT_EQ(w->recovery().last_seq, 7u);
  EXPECT_FALSE(w->recovery().clean);
  EXPECT_EQ(w->recovery().cut_bytes, cut);
  EXPECT_NE(w->recovery().cut_reason.find("seq 8"), std::string::npos) << w->recovery().cut_reason;
  EXPECT_EQ(w->recovery().epoch_seq, 8u);
  ASSERT_TRUE(w->Close().ok());
  auto r = Audit();
  EXPECT_TRUE(LedgerAuditVerdict(r).accepted()) << LedgerAuditVerdict(r).Line() << "\n"
                                                << DescribeFindings(r);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.epochs[1].cut_bytes, cut);
  EXPECT_EQ(FindFinding(r, "cut").seq, 8u);
  EXPECT_EQ(r.bill.totals.statements, 6u);  // seq 2..7
  EXPECT_NEAR(r.bill.totals.delivered_vcpu_hours, 6 * 117.6 / 3600, 1e-9);
}

TEST_F(LedgerRecoveryTest, downtime_filled_with_invented_lines_is_cut_after_a_clean_stop) {
  auto w = Open(kT0);
  double t = Append(*w, 5, kT0);
  const std::string genuine_kid = key_->Thumbprint();
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  // Agent stopped for an hour: the provider appends an hour of usage, chained
  // correctly, signed by its own key (named as such, or claiming the epoch's kid).
  auto lines = ReadLines(Path());
  const size_t genuine = lines.size();
  for (int i = 0; i < 60; ++i) {
    const bool claim = i % 2 == 1;
    lines.push_back(
        Invent(lines.back(), *attacker_, claim ? genuine_kid : attacker_->Thumbprint(), t + 60 * i));
  }
  const uint64_t invented = Bytes(lines, genuine);
  WriteLines(Path(), lines);
  auto before = Audit();
  EXPECT_FALSE(LedgerAuditVerdict(before).accepted());
  EXPECT_TRUE(HasFinding(before, "unknown_key")) << DescribeFindings(before);
  EXPECT_TRUE(HasFinding(before, "bad_signature")) << DescribeFindings(before);
  EXPECT_EQ(before.bill.totals.statements, 5u);

  w = Open(t + 3600);
  EXPECT_TRUE(w->recovery().clean);
  EXPECT_EQ(w->recovery().last_seq, genuine);
  EXPECT_EQ(w->recovery().cut_bytes, invented);
  ASSERT_TRUE(w->Close().ok());
  auto r = Audit();
  EXPECT_TRUE(LedgerAuditVerdict(r).accepted()) << LedgerAuditVerdict(r).Line() << "\n"
                                                << DescribeFindings(r);
  EXPECT_EQ(r.bill.totals.statements, 5u);
  EXPECT_NEAR(r.bill.totals.delivered_vcpu_hours, 5 * 117.6 / 3600, 1e-9);
  EXPECT_NEAR(r.bill.totals.restart_gap_hours, 1.0, 1e-9);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.epochs[1].cut_bytes, invented);
}

TEST_F(LedgerRecoveryTest, forged_epoch_with_a_foreign_key_is_rejected_by_its_evidence) {
  auto w = Open(kT0);
  double t = Append(*w, 3, kT0);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  const auto lines = ReadLines(Path());
  for (const bool replay : {false, true}) {
    auto forged_lines = lines;
    // A new "epoch" under the provider's key: development-mode evidence, or
    // the genuine epoch's SEV-SNP evidence replayed.
    const uint64_t forged_seq = ForgeEpoch(forged_lines, replay, t);
    WriteLines(Path(), forged_lines);
    auto r = Audit();
    const Verdict v = LedgerAuditVerdict(r);
    EXPECT_FALSE(v.accepted()) << DescribeFindings(r);
    EXPECT_NE(v.Line().find("ledger.epochs.evidence"), std::string::npos) << v.Line();
    EXPECT_EQ(FindFinding(r, "epoch_evidence").seq, forged_seq);
    EXPECT_EQ(v.ExitCode(), 1);
    ASSERT_EQ(r.epochs.size(), 2u);
    EXPECT_TRUE(r.epochs[0].evidence_ok);
    EXPECT_FALSE(r.epochs[1].evidence_ok);
  }
}

TEST_F(LedgerRecoveryTest, forged_epoch_with_development_evidence_is_cut_at_the_next_start) {
  ExpectForgedEpochCut(/*replay=*/false);
}

TEST_F(LedgerRecoveryTest, forged_epoch_replaying_genuine_evidence_is_cut_at_the_next_start) {
  ExpectForgedEpochCut(/*replay=*/true);
}

TEST_F(LedgerRecoveryTest, in_development_mode_an_earlier_development_epoch_is_adopted) {
  options_.collect_evidence = nullptr;  // no TEE: this agent's own evidence is "none"
  options_.epoch_evidence = evidence_->VerifyOptions(/*allow_dev=*/false);
  auto w = Open(kT0);
  double t = Append(*w, 3, kT0);
  const std::string first_kid = key_->Thumbprint();
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  const size_t lines = ReadLines(Path()).size();
  w = Open(t + 60);
  EXPECT_EQ(w->recovery().last_seq, lines);
  EXPECT_EQ(w->recovery().cut_bytes, 0u) << w->recovery().cut_reason;
  Append(*w, 2, t + 60);
  ASSERT_TRUE(w->Close().ok());
  auto r = Audit(/*allow_dev=*/true);
  EXPECT_TRUE(LedgerAuditVerdict(r).accepted()) << LedgerAuditVerdict(r).Line() << "\n"
                                                << DescribeFindings(r);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.epochs[1].prev_epoch_kid, first_kid);
  EXPECT_EQ(r.bill.totals.statements, 5u);
  // The audit still rejects development evidence unless allowed.
  EXPECT_FALSE(LedgerAuditVerdict(Audit(/*allow_dev=*/false)).accepted());
}

TEST_F(LedgerRecoveryTest, without_usable_trust_anchors_recovery_refuses_and_changes_nothing) {
  auto w = Open(kT0);
  double t = Append(*w, 3, kT0);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  auto lines = ReadLines(Path());
  ForgeEpoch(lines, /*replay=*/false, t);
  WriteLines(Path(), lines);
  const std::string before = SlurpFile(Path());
  // Misconfigured: the agent's anchors do not hold the root of its own evidence.
  options_.epoch_evidence.trust_anchors_dir = tmp_.path() + "/no-anchors";
  auto key = *SigningKey::Generate(kAlgEdDSA);
  auto reopened = LedgerWriter::Open(options_, key, LedgerClock{t + 60, true, ""});
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), Status::Code::kVerifyFailed);
  EXPECT_NE(reopened.status().message().find("changed nothing"), std::string::npos)
      << reopened.status().message();
  EXPECT_EQ(SlurpFile(Path()), before);
}

TEST_F(LedgerRecoveryTest, a_new_key_per_start_gives_epochs_that_audit_across) {
  LedgerGeneratorOptions g;
  g.dir = options_.dir;
  g.usage_statements = 40;
  g.restarts = 3;
  g.new_key_per_restart = true;
  g.collect_evidence = evidence_->Collector();
  g.epoch_evidence = evidence_->VerifyOptions();
  ASSERT_TRUE(GenerateLedger(g, *SigningKey::Generate(kAlgEdDSA)).ok());
  auto r = Audit();
  EXPECT_TRUE(LedgerAuditVerdict(r).accepted()) << LedgerAuditVerdict(r).Line() << "\n"
                                                << DescribeFindings(r);
  EXPECT_TRUE(r.findings.empty()) << DescribeFindings(r);
  ASSERT_EQ(r.epochs.size(), 4u);
  for (size_t i = 1; i < r.epochs.size(); ++i) {
    EXPECT_NE(r.epochs[i].kid, r.epochs[i - 1].kid);
    EXPECT_EQ(r.epochs[i].prev_epoch_kid, r.epochs[i - 1].kid);
    EXPECT_TRUE(r.epochs[i].evidence_ok) << r.epochs[i].evidence_detail;
  }
  EXPECT_EQ(r.bill.totals.statements, 40u);
}

TEST_F(LedgerRecoveryTest, usage_signed_by_an_earlier_epoch_key_is_rejected) {
  auto w = Open(kT0);
  double t = Append(*w, 2, kT0);
  auto old_key = key_;
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  w = Open(t + 60);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  auto lines = ReadLines(Path());
  lines.push_back(Invent(lines.back(), *old_key, old_key->Thumbprint(), t + 60));
  WriteLines(Path(), lines);
  auto r = Audit();
  EXPECT_EQ(FindFinding(r, "wrong_key").seq, ParseLedgerLine(lines.back())->seq);
  EXPECT_EQ(r.bill.totals.statements, 2u);
}

TEST_F(LedgerRecoveryTest, development_evidence_is_rejected_unless_allowed) {
  options_.collect_evidence = nullptr;  // "none" evidence
  auto w = Open(kT0);
  Append(*w, 2, kT0);
  ASSERT_TRUE(w->Close().ok());
  auto r = Audit(/*allow_dev=*/false);
  EXPECT_FALSE(LedgerAuditVerdict(r).accepted());
  EXPECT_NE(FindFinding(r, "epoch_evidence").message.find("--allow-dev-evidence"), std::string::npos);
  EXPECT_TRUE(LedgerAuditVerdict(Audit(/*allow_dev=*/true)).accepted());
}

TEST_F(LedgerRecoveryTest, a_running_agents_ledger_is_accepted) {
  auto w = Open(kT0);
  Append(*w, 4, kT0);  // no shutdown checkpoint yet
  auto r = Audit();
  EXPECT_TRUE(LedgerAuditVerdict(r).accepted()) << LedgerAuditVerdict(r).Line();
  EXPECT_TRUE(r.findings.empty()) << DescribeFindings(r);
  EXPECT_EQ(r.bill.totals.statements, 4u);
}

TEST_F(LedgerRecoveryTest, zero_length_overlapping_and_future_periods_are_findings_not_billed) {
  auto w = Open(kT0);
  double t = Append(*w, 2, kT0);
  ASSERT_TRUE(w->AppendUsage(LedgerUsage{{t, t, 50, 0, 0, 0}, true, "", ""}).ok());            // zero length
  ASSERT_TRUE(w->AppendUsage(LedgerUsage{{t - 30, t + 30, 60, 0, 0, 0}, true, "", ""}).ok());  // overlaps seq 3
  const double future = kLedgerTestAuditTime + 3600;
  ASSERT_TRUE(
      w->AppendUsage(LedgerUsage{{t + 30, future, 70, 0, 0, 0}, true, "", ""}).ok());  // ends in the future
  ASSERT_TRUE(w->Close().ok());
  auto r = Audit();
  EXPECT_EQ(FindFinding(r, "zero_length").seq, 4u);
  EXPECT_EQ(FindFinding(r, "zero_length").severity, LedgerFindingSeverity::kWarning);
  EXPECT_EQ(FindFinding(r, "overlap").seq, 5u);
  EXPECT_EQ(FindFinding(r, "future_period").seq, 6u);
  EXPECT_EQ(r.bill.totals.statements, 2u);
  EXPECT_EQ(r.unbilled_statements, 3u);
  EXPECT_NEAR(r.bill.totals.delivered_vcpu_hours, 2 * 117.6 / 3600, 1e-9);
  const Verdict v = LedgerAuditVerdict(r);
  EXPECT_FALSE(v.accepted());
  EXPECT_NE(v.Line().find("ledger.periods"), std::string::npos) << v.Line();
}

TEST_F(LedgerRecoveryTest, truncation_shows_as_a_coverage_gap) {
  auto w = Open(kT0);
  Append(*w, 60, kT0);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  auto lines = ReadLines(Path());
  lines.resize(31);  // the provider drops the last half hour (and the checkpoint)
  WriteLines(Path(), lines);
  auto o = evidence_->Options();
  o.from_unix_seconds = kT0;
  o.to_unix_seconds = kT0 + 3600;
  auto r = AuditLedger(*ListLedgerFiles(options_.dir), o);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->bill.totals.covered_hours, 0.5, 1e-9);  // of the 1 hour asked for
}

TEST(LedgerKeyLifecycleTest, a_planted_key_file_is_never_used) {
  TempDir tmp;
  auto planted = InitSigningKey(tmp.path(), kAlgEdDSA);
  ASSERT_TRUE(planted.ok());
  std::optional<std::string> ignored;
  auto key = GenerateEphemeralKey(tmp.path(), kAlgEdDSA, &ignored);
  ASSERT_TRUE(key.ok());
  EXPECT_NE((*key)->Thumbprint(), (*planted)->Thumbprint());
  ASSERT_TRUE(ignored.has_value());
  EXPECT_EQ(*ignored, SigningKeyPath(tmp.path()));
  // Nothing is written for an ephemeral key.
  auto again = GenerateEphemeralKey(tmp.path() + "/sub", kAlgEdDSA, &ignored);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/sub"));
  // The identity document says where the key came from.
  auto doc = BuildIdentityDocument(**key, "ephemeral", nlohmann::json{{"type", "none"}}, 1, "");
  EXPECT_EQ(doc["key_origin"], "ephemeral");
  EXPECT_EQ(doc["kid"], (*key)->Thumbprint());
  EXPECT_FALSE(doc.contains("nonce"));
}

}  // namespace
}  // namespace resmeter
