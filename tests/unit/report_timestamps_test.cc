// RFC 3161 tokens on reports (report/report_timestamps.h): `verify` accepts
// a genuinely stamped report and rejects each forgery a provider could try:
// a token of another payload, a TSA the buyer does not trust, a clock run
// 10 minutes fast or slow (re-signed), no token under require_tsa, a token
// from a TSA the policy does not require. The agent side
// (agent/report_timestamper.h) against a TSA on loopback made in the test:
// tokens before the signature; a TSA that failed is then skipped for
// time.tsa_report_retry_seconds with its reason. No network beyond
// 127.0.0.1; about 1 s.
#include "report/report_timestamps.h"

#include <gtest/gtest.h>

#include <chrono>

#include "agent/config.h"
#include "agent/report_timestamper.h"
#include "core/base64url.h"
#include "core/strings.h"
#include "evidence/evidence.h"
#include "jose/key_origin.h"
#include "jose/signing_key.h"
#include "policy/policy.h"
#include "report/report.h"
#include "report/report_appraisal.h"
#include "support/test_http_server.h"
#include "support/test_tsa.h"

namespace resmeter {
namespace {

constexpr double kNow = 1'800'000'000;
constexpr const char* kTsaNonce = "5a17c0ffee000001";

// TSAs made around kNow (their certificates valid at the stamped times).
const TestTsa& Tsa() {
  static const TestTsa* tsa =
      new TestTsa(TestTsa::Options{.name = "test-tsa", .reference = static_cast<time_t>(kNow)});
  return *tsa;
}
const TestTsa& OtherTsa() {
  static const TestTsa* tsa =
      new TestTsa(TestTsa::Options{.name = "other-tsa", .reference = static_cast<time_t>(kNow)});
  return *tsa;
}

class ReportTimestampsTest : public ::testing::Test {
 protected:
  ReportTimestampsTest() : key_(*SigningKey::Generate(kAlgEdDSA)) {}

  // The unsigned claims of a report issued at `iat`.
  nlohmann::ordered_json Claims(double iat) const {
    ReportInputs in;
    in.issued_at_unix_seconds = iat;
    in.validity_seconds = 600;
    in.submods["cpu.topology"] = {{"status", "ok"}, {"claims", {{"threads", 16}}}};
    in.time = {{"trusted", true}};
    in.evidence = {{"type", "none"},
                   {"reason", "no TEE"},
                   {"user_data", HexEncode(ComputeUserData(key_->Thumbprint(), ""))}};
    in.key_origin = kKeyOriginEphemeral;
    in.live = true;
    return BuildReportClaims(in, *key_);
  }

  static std::string Imprint(const nlohmann::ordered_json& claims) {
    return *ReportImprint(nlohmann::json::parse(claims.dump()));
  }

  // Adds one token entry stamped by `tsa` at `gen_time` over `stamped` (the
  // claims' own imprint when empty), then signs.
  std::string Stamped(nlohmann::ordered_json claims, const TestTsa& tsa, double gen_time,
                      const std::string& stamped = "") const {
    const std::string imprint = Imprint(claims);
    const std::string token = tsa.Token(stamped.empty() ? imprint : stamped, kTsaNonce, gen_time);
    claims["timestamps"] = nlohmann::json::array({{{"tsa", "test-tsa"},
                                                   {"token", Base64UrlEncode(token)},
                                                   {"nonce_hex", kTsaNonce},
                                                   {"imprint", HexEncode(imprint)}}});
    return *key_->SignCompact(claims.dump());
  }
  std::string Signed(const nlohmann::ordered_json& claims) const { return *key_->SignCompact(claims.dump()); }

  AppraisalInputs Inputs(double now, const TestTsa* anchor = &Tsa()) const {
    AppraisalInputs in;
    in.now_unix_seconds = now;
    in.allow_dev_evidence = true;
    if (anchor) in.tsa_anchors = *TsaAnchors::FromPem(anchor->CaPem(), "test anchors");
    return in;
  }

  static const Check* Find(const Verdict& v, const std::string& name) {
    for (const Check& c : v.checks())
      if (c.name == name) return &c;
    return nullptr;
  }
  static std::string Dump(const Verdict& v) { return v.ToJson().dump(1); }

  std::shared_ptr<SigningKey> key_;
};

TEST_F(ReportTimestampsTest, GenuineStampedReportIsAccepted) {
  const Verdict v = AppraiseReport(Stamped(Claims(kNow), Tsa(), kNow + 2), Inputs(kNow + 3));
  EXPECT_TRUE(v.accepted()) << Dump(v);
  const Check* c = Find(v, "timestamp[test-tsa]");
  ASSERT_NE(c, nullptr) << Dump(v);
  EXPECT_EQ(c->outcome, CheckOutcome::kPassed);
  EXPECT_NE(c->detail.find("CN=test-tsa"), std::string::npos) << c->detail;
}

TEST_F(ReportTimestampsTest, ReportWithoutTokensShowsNotPresent) {
  const Verdict v = AppraiseReport(Signed(Claims(kNow)), Inputs(kNow + 1));
  EXPECT_TRUE(v.accepted()) << Dump(v);
  const Check* c = Find(v, "timestamp");
  ASSERT_NE(c, nullptr) << Dump(v);
  EXPECT_EQ(c->outcome, CheckOutcome::kNotApplicable);
  EXPECT_EQ(c->detail, "not present");
  // The JSON output carries the check.
  bool in_json = false;
  const nlohmann::json out = v.ToJson();
  for (const auto& j : out["checks"]) in_json |= j["name"] == "timestamp";
  EXPECT_TRUE(in_json);
}

TEST_F(ReportTimestampsTest, TokenOfAnotherPayloadIsRejected) {
  const std::string other = Imprint(Claims(kNow - 100));  // another report's hash
  const Verdict v = AppraiseReport(Stamped(Claims(kNow), Tsa(), kNow + 2, other), Inputs(kNow + 3));
  EXPECT_FALSE(v.accepted());
  const Check* c = Find(v, "timestamp[test-tsa]");
  ASSERT_NE(c, nullptr) << Dump(v);
  EXPECT_EQ(c->outcome, CheckOutcome::kFailed);
  EXPECT_NE(c->detail.find("imprint"), std::string::npos) << c->detail;

  // A claim changed after stamping (and re-signed): the stated imprint no longer matches.
  nlohmann::ordered_json claims = Claims(kNow);
  const std::string imprint = Imprint(claims);
  claims["submods"]["cpu.topology"]["claims"]["threads"] = 64;
  claims["timestamps"] =
      nlohmann::json::array({{{"tsa", "test-tsa"},
                              {"token", Base64UrlEncode(Tsa().Token(imprint, kTsaNonce, kNow))},
                              {"nonce_hex", kTsaNonce},
                              {"imprint", HexEncode(imprint)}}});
  const Verdict changed = AppraiseReport(Signed(claims), Inputs(kNow + 3));
  EXPECT_FALSE(changed.accepted());
  EXPECT_NE(changed.Line().find("imprint"), std::string::npos) << changed.Line();
}

TEST_F(ReportTimestampsTest, UntrustedTsaChainIsRejected) {
  const Verdict v = AppraiseReport(Stamped(Claims(kNow), Tsa(), kNow + 2), Inputs(kNow + 3, &OtherTsa()));
  EXPECT_FALSE(v.accepted());
  const Check* c = Find(v, "timestamp[test-tsa]");
  ASSERT_NE(c, nullptr) << Dump(v);
  EXPECT_EQ(c->outcome, CheckOutcome::kFailed);
  EXPECT_NE(c->detail.find("chain:"), std::string::npos) << c->detail;
}

TEST_F(ReportTimestampsTest, ClockTenMinutesFastOrSlowIsRejectedNamingBothTimes) {
  // The agent's clock says kNow + 600 when the TSA says kNow: re-signed as such an agent would.
  Verdict v = AppraiseReport(Stamped(Claims(kNow + 600), Tsa(), kNow), Inputs(kNow + 601));
  EXPECT_FALSE(v.accepted());
  const Check* c = Find(v, "timestamp[test-tsa]");
  ASSERT_NE(c, nullptr) << Dump(v);
  EXPECT_EQ(c->outcome, CheckOutcome::kFailed);
  EXPECT_NE(c->detail.find("ran fast"), std::string::npos) << c->detail;
  EXPECT_NE(c->detail.find(std::to_string(static_cast<long>(kNow + 600))), std::string::npos) << c->detail;
  EXPECT_NE(c->detail.find("TSA time 2027"), std::string::npos) << c->detail;

  v = AppraiseReport(Stamped(Claims(kNow - 600), Tsa(), kNow), Inputs(kNow + 1));
  EXPECT_FALSE(v.accepted());
  c = Find(v, "timestamp[test-tsa]");
  ASSERT_NE(c, nullptr) << Dump(v);
  EXPECT_NE(c->detail.find("ran slow"), std::string::npos) << c->detail;

  // Within the stated delay and tolerance: accepted (iat 30 s before the stamp, 3 s after).
  EXPECT_TRUE(AppraiseReport(Stamped(Claims(kNow - 30), Tsa(), kNow), Inputs(kNow + 1)).accepted());
  EXPECT_TRUE(AppraiseReport(Stamped(Claims(kNow + 3), Tsa(), kNow), Inputs(kNow + 4)).accepted());
  // A policy can narrow the delay: 30 s is then too long.
  auto policy = ParsePolicy("time: {max_stamp_delay_seconds: 10, bracket_tolerance_seconds: 1}\n", "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  AppraisalInputs in = Inputs(kNow + 1);
  in.policy = &*policy;
  EXPECT_FALSE(AppraiseReport(Stamped(Claims(kNow - 30), Tsa(), kNow), in).accepted());
}

TEST_F(ReportTimestampsTest, RequireTsaWithoutTokenIsRejected) {
  auto policy = ParsePolicy("time: {require_tsa: [test-tsa]}\n", "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  AppraisalInputs in = Inputs(kNow + 1);
  in.policy = &*policy;
  Verdict v = AppraiseReport(Signed(Claims(kNow)), in);
  EXPECT_FALSE(v.accepted());
  const Check* c = Find(v, "policy.time.require_tsa");
  ASSERT_NE(c, nullptr) << Dump(v);
  EXPECT_EQ(c->outcome, CheckOutcome::kFailed);

  // The agent's reason for a missing token is shown.
  nlohmann::ordered_json claims = Claims(kNow);
  claims["timestamps"] =
      nlohmann::json::array({{{"tsa", "test-tsa"}, {"error", "TSA test-tsa: connection refused"}}});
  v = AppraiseReport(Signed(claims), in);
  EXPECT_FALSE(v.accepted());
  EXPECT_NE(v.Line().find("connection refused"), std::string::npos) << v.Line();

  // With the token: accepted.
  v = AppraiseReport(Stamped(Claims(kNow), Tsa(), kNow + 1), in);
  EXPECT_TRUE(v.accepted()) << Dump(v);
}

TEST_F(ReportTimestampsTest, TokenFromATsaThePolicyDoesNotRequireIsRejected) {
  auto policy = ParsePolicy("time: {require_tsa: [acme-tsa]}\n", "p.yaml");
  ASSERT_TRUE(policy.ok());
  AppraisalInputs in = Inputs(kNow + 3);
  in.policy = &*policy;
  const Verdict v = AppraiseReport(Stamped(Claims(kNow), Tsa(), kNow + 2), in);
  EXPECT_FALSE(v.accepted());
  const Check* c = Find(v, "timestamp[test-tsa]");
  ASSERT_NE(c, nullptr) << Dump(v);
  EXPECT_EQ(c->outcome, CheckOutcome::kWarning);
  EXPECT_NE(c->detail.find("not a TSA the policy requires"), std::string::npos) << c->detail;
  c = Find(v, "policy.time.require_tsa");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->outcome, CheckOutcome::kFailed);
}

TEST_F(ReportTimestampsTest, WithoutTsaAnchorsTokensAreShownNotChecked) {
  const Verdict v = AppraiseReport(Stamped(Claims(kNow), Tsa(), kNow + 2), Inputs(kNow + 3, nullptr));
  EXPECT_TRUE(v.accepted()) << Dump(v);
  const Check* c = Find(v, "timestamp[test-tsa]");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->outcome, CheckOutcome::kWarning);
}

// The agent side: a TSA on loopback answering with TestTsa, at the real time.
TEST(ReportTimestamperTest, StampsBeforeSigningAndSkipsAFailedTsaWithItsReason) {
  const TestTsa tsa(TestTsa::Options{.name = "loop-tsa"});
  TestHttpServer good([&](const std::string& body) {
    return TestHttpReply{.body = tsa.Reply(body, DefaultEnv()->WallSeconds())};
  });
  // A TSA that answers garbage fails at once (a refused connection would cost
  // OpenSSL's HTTP client its whole timeout, which it retries for).
  TestHttpServer bad([](const std::string&) { return TestHttpReply{.body = "\x30\x03garbage"}; });
  auto config = ParseConfig(
      "time:\n  tsa_timeout_seconds: 10\n  tsa: [\"good=" + good.Url() + "\", \"dead=" + bad.Url() + "\"]\n",
      "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(ReportTimestamper::Enabled(*config));

  auto key = *SigningKey::Generate(kAlgEdDSA);
  ReportInputs in;
  in.issued_at_unix_seconds = DefaultEnv()->WallSeconds();
  in.evidence = {{"type", "none"}, {"user_data", HexEncode(ComputeUserData(key->Thumbprint(), ""))}};
  in.key_origin = kKeyOriginEphemeral;
  in.live = true;
  nlohmann::ordered_json claims = BuildReportClaims(in, *key);
  ReportTimestamper stamper(DefaultEnv());
  const auto t0 = std::chrono::steady_clock::now();
  stamper.Stamp(*config, claims);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(took, 10.0) << "both answer at once; bounded by the TSA timeout either way";
  ASSERT_EQ(claims["timestamps"].size(), 2u) << claims["timestamps"].dump(1);
  EXPECT_EQ(claims["timestamps"][0]["tsa"], "good");
  EXPECT_TRUE(claims["timestamps"][0].contains("token")) << claims["timestamps"][0].dump();
  EXPECT_EQ(claims["timestamps"][1]["tsa"], "dead");
  EXPECT_TRUE(claims["timestamps"][1].contains("error"));

  AppraisalInputs appraise;
  appraise.now_unix_seconds = DefaultEnv()->WallSeconds();
  appraise.allow_dev_evidence = true;
  appraise.tsa_anchors = *TsaAnchors::FromPem(tsa.CaPem(), "test");
  const Verdict v = AppraiseReport(*key->SignCompact(claims.dump()), appraise);
  EXPECT_TRUE(v.accepted()) << v.ToJson().dump(1);

  // The dead TSA is not asked again within time.tsa_report_retry_seconds; its reason stays.
  nlohmann::ordered_json again = BuildReportClaims(in, *key);
  stamper.Stamp(*config, again);
  ASSERT_EQ(again["timestamps"].size(), 2u);
  EXPECT_NE(again["timestamps"][1]["error"].get<std::string>().find("not asked: failed"), std::string::npos)
      << again["timestamps"][1].dump();

  // time.tsa_stamp_reports: false leaves reports unstamped.
  auto off =
      ParseConfig("time:\n  tsa_stamp_reports: false\n  tsa: [\"good=" + good.Url() + "\"]\n", "t.yaml");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(ReportTimestamper::Enabled(*off));
}

}  // namespace
}  // namespace resmeter
