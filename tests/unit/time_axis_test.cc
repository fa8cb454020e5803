// TimeAxisChecker (tsa/time_axis.h) on its own: synthetic line hashes,
// tokens from a test TSA, periods; the bracket arithmetic, hours, the
// longest unchecked run, clipping, and bad stamps.
#include "tsa/time_axis.h"

#include <gtest/gtest.h>

#include "core/base64url.h"
#include "support/test_tsa.h"
#include "tsa/timestamp_token.h"

namespace resmeter {
namespace {

constexpr double kT0 = 1'800'000'000;

class TimeAxisTest : public ::testing::Test {
 protected:
  TimeAxisTest() : tsa_(Opts()) {}
  static TestTsa::Options Opts() {
    TestTsa::Options o;
    o.reference = static_cast<time_t>(kT0);
    return o;
  }
  TimeAxisOptions Options() {
    TimeAxisOptions o;
    o.anchors = *TsaAnchors::FromPem(tsa_.CaPem(), "test");
    o.tolerance_seconds = 2;
    return o;
  }
  static std::string Hash(uint64_t seq) { return std::string(32, static_cast<char>('A' + seq % 50)); }
  void Line(TimeAxisChecker& c, uint64_t seq) {
    const std::string h = Hash(seq);
    c.OnLine(seq, reinterpret_cast<const unsigned char*>(h.data()));
  }
  // Line `seq` carries a token for line `stamped` at TSA time t.
  void Stamp(TimeAxisChecker& c, uint64_t seq, uint64_t stamped, double t) {
    const std::string token = tsa_.Token(Hash(stamped), "0102", t);
    c.OnTimestamp(seq, stamped, TsaHex(Hash(stamped)), "test-tsa", "0102", Base64UrlEncode(token));
    Line(c, seq);
  }
  void Period(TimeAxisChecker& c, uint64_t seq, double start, double end) {
    c.OnPeriod(seq, start, end);
    Line(c, seq);
  }
  TestTsa tsa_;
};

TEST_F(TimeAxisTest, PeriodsBetweenTwoStampsAreChecked) {
  TimeAxisChecker c(Options());
  Line(c, 1);
  Stamp(c, 2, 1, kT0);  // lower bound kT0 for lines after 2
  Period(c, 3, kT0, kT0 + 60);
  Period(c, 4, kT0 + 60, kT0 + 120);
  Stamp(c, 5, 4, kT0 + 121);           // upper bound for 3..4
  Period(c, 6, kT0 + 120, kT0 + 180);  // no later stamp: unchecked
  c.Finish();
  EXPECT_TRUE(c.findings().empty()) << c.findings()[0].message;
  EXPECT_DOUBLE_EQ(c.summary().checked_seconds, 120);
  EXPECT_DOUBLE_EQ(c.summary().unchecked_seconds, 60);
  EXPECT_DOUBLE_EQ(c.summary().longest_unchecked_seconds, 60);
  EXPECT_EQ(c.summary().first_unchecked_seq, 6u);
  EXPECT_EQ(c.summary().tokens_verified, 2u);
}

TEST_F(TimeAxisTest, WithoutALowerBoundPeriodsStayUnchecked) {
  TimeAxisChecker c(Options());
  Period(c, 1, kT0, kT0 + 60);
  Stamp(c, 2, 1, kT0 + 61);
  c.Finish();
  EXPECT_TRUE(c.findings().empty());
  EXPECT_DOUBLE_EQ(c.summary().checked_seconds, 0);
  EXPECT_DOUBLE_EQ(c.summary().unchecked_seconds, 60);
}

TEST_F(TimeAxisTest, ToleranceAddsTheTokensAccuracy) {
  // The test TSA states 1 s accuracy: 2 s tolerance + 1 s. A period ending
  // 2.9 s after the stamp passes, 3.1 s does not.
  for (double late : {2.9, 3.1}) {
    TimeAxisChecker c(Options());
    Line(c, 1);
    Stamp(c, 2, 1, kT0);
    Period(c, 3, kT0, kT0 + 60 + late);
    Stamp(c, 4, 3, kT0 + 60);
    c.Finish();
    EXPECT_EQ(c.findings().empty(), late < 3) << late;
  }
}

TEST_F(TimeAxisTest, FastAndSlowClocksNameTheFirstStatement) {
  TimeAxisChecker fast(Options());
  Line(fast, 1);
  Stamp(fast, 2, 1, kT0);
  for (uint64_t s = 3; s <= 6; ++s) Period(fast, s, kT0 + 600 + 60 * (s - 3), kT0 + 660 + 60 * (s - 3));
  Stamp(fast, 7, 6, kT0 + 240);
  fast.Finish();
  ASSERT_EQ(fast.findings().size(), 1u);
  EXPECT_EQ(fast.findings()[0].kind, "time_bracket");
  EXPECT_EQ(fast.findings()[0].seq, 3u);
  EXPECT_EQ(fast.findings()[0].seq_end, 6u);
  EXPECT_EQ(fast.summary().periods_outside, 4u);

  TimeAxisChecker slow(Options());
  Line(slow, 1);
  Stamp(slow, 2, 1, kT0);
  for (uint64_t s = 3; s <= 6; ++s) Period(slow, s, kT0 - 600 + 60 * (s - 3), kT0 - 540 + 60 * (s - 3));
  slow.Finish();
  ASSERT_EQ(slow.findings().size(), 1u) << "one finding per token";
  EXPECT_EQ(slow.findings()[0].seq, 3u);
  EXPECT_EQ(slow.findings()[0].seq_end, 6u);
  EXPECT_NE(slow.findings()[0].message.find("ran slow"), std::string::npos);
}

TEST_F(TimeAxisTest, HoursAreClippedToTheRange) {
  TimeAxisOptions o = Options();
  o.from_unix_seconds = kT0 + 30;
  o.to_unix_seconds = kT0 + 90;
  TimeAxisChecker c(o);
  Line(c, 1);
  Stamp(c, 2, 1, kT0);
  Period(c, 3, kT0, kT0 + 60);
  Period(c, 4, kT0 + 60, kT0 + 120);
  Stamp(c, 5, 4, kT0 + 121);
  c.Finish();
  EXPECT_DOUBLE_EQ(c.summary().checked_seconds, 60);
}

TEST_F(TimeAxisTest, BadStampsAreFindingsAndDoNotCount) {
  TimeAxisChecker c(Options());
  Line(c, 1);
  // Names a line that is not in the chain, then garbage base64, then a token that does not parse.
  c.OnTimestamp(2, 9, TsaHex(Hash(9)), "t", "01", "AAAA");
  Line(c, 2);
  c.OnTimestamp(3, 1, TsaHex(Hash(1)), "t", "01", "***");
  Line(c, 3);
  c.OnTimestamp(4, 1, TsaHex(Hash(1)), "t", "01", Base64UrlEncode("garbage"));
  Line(c, 4);
  c.Finish();
  ASSERT_EQ(c.findings().size(), 3u);
  EXPECT_EQ(c.findings()[0].kind, "timestamp_mismatch");
  EXPECT_EQ(c.findings()[1].kind, "timestamp_token");
  EXPECT_EQ(c.findings()[2].kind, "timestamp_token");
  EXPECT_EQ(c.summary().tokens_rejected, 3u);
}

}  // namespace
}  // namespace resmeter
