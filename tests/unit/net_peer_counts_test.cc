// Unit tests of CheckPeerUploadCounts: what a co-signing peer may report
// for the agent's upload, given what the agent sent and how long it took.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "peer/net_client.h"

namespace resmeter {
namespace {

DirectionCounts Counts(double window_seconds, std::vector<uint64_t> bytes) {
  DirectionCounts c;
  c.window_seconds = window_seconds;
  c.stream_bytes = std::move(bytes);
  return c;
}

TEST(net_peer_counts_test, honest_counts_pass) {
  // 5 s window after 1 s omit; the peer saw less than was sent on each stream.
  EXPECT_TRUE(CheckPeerUploadCounts(Counts(5.0003, {900, 800}), {1000, 1000}, 5.0, 6.1).ok());
  // Exactly what was sent (the last byte arrived inside the window).
  EXPECT_TRUE(CheckPeerUploadCounts(Counts(5.0, {1000}), {1000}, 5.0, 6.0).ok());
  // A peer clock slightly slower than ours, within the tolerance.
  EXPECT_TRUE(CheckPeerUploadCounts(Counts(4.96, {10}), {10}, 5.0, 6.0).ok());
}

TEST(net_peer_counts_test, a_megabyte_in_a_microsecond_is_rejected) {
  Status s = CheckPeerUploadCounts(Counts(1e-6, {1000000}), {5000000}, 5.0, 6.0);
  EXPECT_EQ(s.code(), Status::Code::kVerifyFailed);
  EXPECT_NE(s.message().find("peer reports 1000000 bytes in 1e-06 s: window shorter than the configured 5 s"),
            std::string::npos)
      << s.message();
}

TEST(net_peer_counts_test, more_bytes_than_sent_is_rejected) {
  Status s = CheckPeerUploadCounts(Counts(5.0, {1000, 1001}), {1000, 1000}, 5.0, 6.0);
  EXPECT_EQ(s.code(), Status::Code::kVerifyFailed);
  EXPECT_NE(s.message().find("stream 1 received 1001 bytes but the agent sent only 1000"), std::string::npos)
      << s.message();
}

TEST(net_peer_counts_test, invalid_windows_are_rejected) {
  for (double w : {0.0, -5.0, std::numeric_limits<double>::infinity(), std::nan("")}) {
    Status s = CheckPeerUploadCounts(Counts(w, {1}), {1}, 5.0, 6.0);
    EXPECT_EQ(s.code(), Status::Code::kVerifyFailed) << w;
    EXPECT_NE(s.message().find("not a valid window"), std::string::npos) << s.message();
  }
  // Longer than the phase lasted on the agent's clock: deflates, but cannot have happened.
  Status s = CheckPeerUploadCounts(Counts(60.0, {1}), {1}, 5.0, 6.0);
  EXPECT_NE(s.message().find("window longer than the whole phase (6 s on the agent's clock)"),
            std::string::npos)
      << s.message();
  // A stream count that differs from the streams the agent opened.
  EXPECT_FALSE(CheckPeerUploadCounts(Counts(5.0, {1, 1, 1}), {1, 1}, 5.0, 6.0).ok());
}

}  // namespace
}  // namespace resmeter
