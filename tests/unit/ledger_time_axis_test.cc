// The ledger's time axis: timestamp statements carrying RFC 3161 tokens from
// a test TSA (tests/support/test_tsa.h), and the audit's brackets
// (tsa/time_axis.h): a clock run fast or slow, and each way a token can be
// wrong (imprint, nonce, chain, expired certificate, stamped hash), each
// rejected with its reason; time-checked vs unchecked hours.
#include <gtest/gtest.h>

#include "core/base64url.h"
#include "core/strings.h"
#include "ledger/ledger_files.h"
#include "ledger_test_support.h"
#include "support/test_tsa.h"
#include "tsa/timestamp_token.h"

namespace resmeter {
namespace {

constexpr double kT0 = 1'900'000'000;  // before kLedgerTestAuditTime
// A test TSA whose certificates are valid around kT0.
TestTsa::Options AroundT0(std::string name = "test-tsa") {
  TestTsa::Options o;
  o.name = std::move(name);
  o.reference = static_cast<time_t>(kT0);
  return o;
}
constexpr char kNonce[] = "1122334455667788";

// How a stamp is spoiled.
struct Spoil {
  bool other_imprint = false;  // the TSA stamped another hash
  bool other_nonce = false;    // the statement names another nonce than the token's
  bool wrong_stamped = false;  // stamped_sha256 is not the line's hash
};

class LedgerTimeAxisTest : public LedgerWriterFixture {
 protected:
  // Stamps the writer's head at TSA time `t` and appends the timestamp statement.
  void StampHead(LedgerWriter& w, const TestTsa& tsa, double t, Spoil spoil = {}) {
    const std::string raw = *HexDecode(w.head());
    const std::string token = tsa.Token(spoil.other_imprint ? std::string(32, 'x') : raw, kNonce, t);
    LedgerTimestampFields f;
    f.stamped_seq = w.last_seq();
    f.stamped_sha256 = spoil.wrong_stamped ? std::string(64, 'a') : w.head();
    f.tsa = "test-tsa";
    f.tsa_nonce = spoil.other_nonce ? "99" : kNonce;
    f.tsa_token = Base64UrlEncode(token);
    auto seq = w.AppendTimestamp(f);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  }

  // Writes: epoch, stamp, 5 periods, stamp, 5 periods, stamp, 2 periods (one
  // minute each from kT0 + shift, the agent's clock; TSA times are the true ones).
  void WriteLedger(const TestTsa& tsa, double shift_seconds, Spoil spoil = {}) {
    auto w = Open(kT0 + shift_seconds);  // the agent's clock
    ASSERT_TRUE(w);
    StampHead(*w, tsa, kT0 + 0.5);
    double t = Append(*w, 5, kT0 + shift_seconds);
    StampHead(*w, tsa, kT0 + 300.5, spoil);
    t = Append(*w, 5, t);
    StampHead(*w, tsa, kT0 + 600.5);
    Append(*w, 2, t);
    ASSERT_TRUE(w->Close().ok());
  }

  LedgerAuditResult Audit(const TsaAnchors& anchors, std::vector<std::string> accepted = {}) {
    LedgerAuditOptions o = evidence_->Options();
    o.tsa_anchors = anchors;
    o.accepted_tsas = std::move(accepted);
    auto r = AuditLedger(*ExpandLedgerPaths({options_.dir}), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : LedgerAuditResult{};
  }
  static TsaAnchors Anchors(const TestTsa& tsa) { return *TsaAnchors::FromPem(tsa.CaPem(), "test CA"); }
  // The ledger.time check of the audit's verdict.
  static const Check* TimeCheck(const Verdict& v) {
    for (const auto& c : v.checks()) {
      if (c.name == "ledger.time") return &c;
    }
    return nullptr;
  }
};

TEST_F(LedgerTimeAxisTest, StatementRoundTrips) {
  LedgerStatement s;
  s.seq = 9;
  s.prev = std::string(64, '0');
  s.kind = LedgerKind::kTimestamp;
  s.kid = "k";
  s.stamped_seq = 8;
  s.stamped_sha256 = std::string(64, 'b');
  s.tsa = "t";
  s.tsa_nonce = "01";
  s.tsa_token = "AAAA";
  auto line = [](const LedgerStatement& st) {
    const std::string body = SerializeLedgerBody(st);
    return body.substr(0, body.size() - 1) + ",\"sig\":\"a..b\"}";
  };
  EXPECT_EQ(line(s).find("start_unix_seconds"), std::string::npos) << line(s);
  auto parsed = ParseLedgerLine(line(s));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->kind, LedgerKind::kTimestamp);
  EXPECT_EQ(parsed->stamped_seq, 8u);
  EXPECT_EQ(parsed->tsa_token, "AAAA");
  // A stamp of itself (or a later line), a bad hash, or a missing token does not parse.
  LedgerStatement bad = s;
  bad.stamped_seq = 9;
  EXPECT_FALSE(ParseLedgerLine(line(bad)).ok());
  bad = s;
  bad.stamped_sha256 = "xyz";
  EXPECT_FALSE(ParseLedgerLine(line(bad)).ok());
  bad = s;
  bad.tsa_token = "";
  EXPECT_FALSE(ParseLedgerLine(line(bad)).ok());
}

TEST_F(LedgerTimeAxisTest, AcceptsAStampedLedgerAndSplitsCheckedFromUncheckedTime) {
  TestTsa tsa(AroundT0());
  WriteLedger(tsa, 0);
  LedgerAuditResult r = Audit(Anchors(tsa));
  EXPECT_TRUE(r.clean()) << DescribeFindings(r);
  EXPECT_EQ(r.time_axis.tokens, 3u);
  EXPECT_EQ(r.time_axis.tokens_verified, 3u);
  EXPECT_NEAR(r.time_axis.checked_seconds, 600, 1e-6);
  EXPECT_NEAR(r.time_axis.unchecked_seconds, 120, 1e-6) << "the two periods after the last stamp";
  EXPECT_NEAR(r.time_axis.longest_unchecked_seconds, 120, 1e-6);
  const Verdict v = LedgerAuditVerdict(r);
  ASSERT_NE(TimeCheck(v), nullptr);
  EXPECT_EQ(TimeCheck(v)->outcome, CheckOutcome::kPassed) << TimeCheck(v)->detail;
}

TEST_F(LedgerTimeAxisTest, AClockTenMinutesFastIsRejectedNamingTheFirstStatement) {
  TestTsa tsa(AroundT0());
  WriteLedger(tsa, +600);
  LedgerAuditResult r = Audit(Anchors(tsa));
  EXPECT_FALSE(r.clean());
  const LedgerFinding f = FindFinding(r, "time_bracket");
  EXPECT_EQ(f.seq, 3u) << f.message;  // epoch 1, timestamp 2, first usage 3
  EXPECT_NE(f.message.find("ran fast"), std::string::npos) << f.message;
  EXPECT_EQ(TimeCheck(LedgerAuditVerdict(r))->outcome, CheckOutcome::kFailed);
  EXPECT_NEAR(r.time_axis.checked_seconds, 0, 1e-6);
}

TEST_F(LedgerTimeAxisTest, AClockTenMinutesSlowIsRejected) {
  TestTsa tsa(AroundT0());
  WriteLedger(tsa, -600);
  LedgerAuditResult r = Audit(Anchors(tsa));
  const LedgerFinding f = FindFinding(r, "time_bracket");
  EXPECT_EQ(f.seq, 3u) << f.message;
  EXPECT_NE(f.message.find("ran slow"), std::string::npos) << f.message;
}

// The second stamp (statement seq 8, for seq 7) is spoiled.
TEST_F(LedgerTimeAxisTest, ATokenForAnotherHashIsRejected) {
  TestTsa tsa(AroundT0());
  WriteLedger(tsa, 0, {.other_imprint = true});
  LedgerAuditResult r = Audit(Anchors(tsa));
  const LedgerFinding f = FindFinding(r, "timestamp_token");
  EXPECT_EQ(f.seq, 8u);
  EXPECT_NE(f.message.find("imprint:"), std::string::npos) << f.message;
  EXPECT_EQ(TimeCheck(LedgerAuditVerdict(r))->outcome, CheckOutcome::kFailed);
}

TEST_F(LedgerTimeAxisTest, ATokenWithAnotherNonceIsRejected) {
  TestTsa tsa(AroundT0());
  WriteLedger(tsa, 0, {.other_nonce = true});
  LedgerAuditResult r = Audit(Anchors(tsa));
  const LedgerFinding f = FindFinding(r, "timestamp_token");
  EXPECT_EQ(f.seq, 8u);
  EXPECT_NE(f.message.find("nonce:"), std::string::npos) << f.message;
}

TEST_F(LedgerTimeAxisTest, AStampedHashThatIsNotTheLinesIsRejected) {
  TestTsa tsa(AroundT0());
  WriteLedger(tsa, 0, {.wrong_stamped = true});
  LedgerAuditResult r = Audit(Anchors(tsa));
  const LedgerFinding f = FindFinding(r, "timestamp_mismatch");
  EXPECT_EQ(f.seq, 8u);
  EXPECT_NE(f.message.find("not that line's hash"), std::string::npos) << f.message;
}

TEST_F(LedgerTimeAxisTest, AnUntrustedTsaIsRejected) {
  TestTsa tsa(AroundT0());
  TestTsa other(AroundT0("other"));
  WriteLedger(tsa, 0);
  LedgerAuditResult r = Audit(Anchors(other));
  const LedgerFinding f = FindFinding(r, "timestamp_token");
  EXPECT_NE(f.message.find("chain:"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("local issuer"), std::string::npos) << f.message;
  EXPECT_EQ(r.time_axis.tokens_rejected, 3u);
  EXPECT_NEAR(r.time_axis.checked_seconds, 0, 1e-6);
}

TEST_F(LedgerTimeAxisTest, AnExpiredTsaCertificateIsRejected) {
  // Valid until kT0 + 400: the third stamp (kT0 + 600.5) is after it.
  TestTsa::Options o = AroundT0();
  o.tsa_not_after_seconds = 400;
  TestTsa tsa(o);
  WriteLedger(tsa, 0);
  LedgerAuditResult r = Audit(Anchors(tsa));
  const LedgerFinding f = FindFinding(r, "timestamp_token");
  EXPECT_EQ(f.seq, 14u) << f.message;
  EXPECT_NE(f.message.find("certificate has expired"), std::string::npos) << f.message;
  EXPECT_EQ(r.time_axis.tokens_verified, 2u);
}

TEST_F(LedgerTimeAxisTest, WithoutAnchorsTheTimeIsUncheckedNotRejected) {
  TestTsa tsa(AroundT0());
  WriteLedger(tsa, +600);
  LedgerAuditResult r = Audit(TsaAnchors());
  EXPECT_TRUE(r.clean()) << DescribeFindings(r);
  EXPECT_TRUE(HasFinding(r, "timestamp_unchecked"));
  EXPECT_NEAR(r.time_axis.checked_seconds, 0, 1e-6);
  EXPECT_NEAR(r.time_axis.unchecked_seconds, 720, 1e-6);
}

TEST_F(LedgerTimeAxisTest, TokensOfATsaThePolicyDoesNotRequireDoNotCount) {
  TestTsa tsa(AroundT0());
  WriteLedger(tsa, 0);
  LedgerAuditResult r = Audit(Anchors(tsa), {"another-tsa"});
  EXPECT_TRUE(r.clean()) << DescribeFindings(r);
  EXPECT_TRUE(HasFinding(r, "timestamp_tsa"));
  EXPECT_EQ(r.time_axis.tokens_ignored, 3u);
  EXPECT_NEAR(r.time_axis.checked_seconds, 0, 1e-6);
  r = Audit(Anchors(tsa), {"test-tsa"});  // the signer certificate's CN
  EXPECT_EQ(r.time_axis.tokens_verified, 3u);
}

}  // namespace
}  // namespace resmeter
