// Unit tests of the network protocol pieces: host:port parsing, framing over
// a socketpair (no network), payload generator, base64url, percentiles.
#include "peer/net_protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <thread>

#include "core/base64url.h"
#include "peer/net_socket.h"

namespace resmeter {
namespace {

// A connected pair of stream sockets, closed on destruction.
struct Pair {
  Socket a, b;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a = Socket(fds[0]);
    b = Socket(fds[1]);
  }
};

void WriteRaw(int fd, const std::string& bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

TEST(net_protocol_test, parses_host_port_forms) {
  auto v4 = ParseHostPort("10.0.0.2:5301");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "10.0.0.2");
  EXPECT_EQ(v4->port, 5301);
  auto v6 = ParseHostPort("[fd00::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "fd00::1");
  EXPECT_EQ(v6->ToString(), "[fd00::1]:80");
  for (const char* bad : {"host", "host:", ":80", "host:99999", "fd00::1:80", "[fd00::1]80", "h:8x"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

TEST(net_protocol_test, frame_round_trip) {
  Pair p;
  nlohmann::json msg = {{"type", "hello"}, {"n", 3}};
  ASSERT_TRUE(SendFrame(p.a.fd(), msg, MonotonicNow() + 1, nullptr).ok());
  auto got = RecvFrame(p.b.fd(), MonotonicNow() + 1, nullptr, "hello");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, msg);
}

TEST(net_protocol_test, oversized_length_is_garbage) {
  Pair p;
  WriteRaw(p.a.fd(), "HTTP/1.1 200 OK\r\n\r\n");
  auto got = RecvFrame(p.b.fd(), MonotonicNow() + 1, nullptr, "welcome");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kCorruption);
  EXPECT_NE(got.status().message().find("garbage"), std::string::npos) << got.status().message();
}

TEST(net_protocol_test, non_json_body_is_garbage) {
  Pair p;
  WriteRaw(p.a.fd(), std::string("\0\0\0\5hello", 9));
  auto got = RecvFrame(p.b.fd(), MonotonicNow() + 1, nullptr, "");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("not a JSON object"), std::string::npos) << got.status().message();
}

TEST(net_protocol_test, error_frame_and_wrong_type_are_reported) {
  Pair p;
  SendErrorFrame(p.a.fd(), "busy", MonotonicNow() + 1);
  ASSERT_TRUE(SendFrame(p.a.fd(), {{"type", "started"}}, MonotonicNow() + 1, nullptr).ok());
  auto err = RecvFrame(p.b.fd(), MonotonicNow() + 1, nullptr, "welcome");
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().message(), "peer error: busy");
  auto wrong = RecvFrame(p.b.fd(), MonotonicNow() + 1, nullptr, "counts");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("expected 'counts' frame, got 'started'"), std::string::npos);
}

TEST(net_protocol_test, silent_peer_times_out_within_the_deadline) {
  Pair p;
  const double start = MonotonicNow();
  auto got = RecvFrame(p.b.fd(), start + 0.3, nullptr, "welcome");
  const double took = MonotonicNow() - start;
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kDeadlineExceeded);
  EXPECT_GE(took, 0.29);
  EXPECT_LT(took, 2.0);  // generous: only the order of magnitude matters
}

TEST(net_protocol_test, closed_peer_and_cancel_are_reported) {
  Pair p;
  WriteRaw(p.a.fd(), std::string("\0\0", 2));
  p.a.Close();
  auto got = RecvFrame(p.b.fd(), MonotonicNow() + 1, nullptr, "welcome");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("closed by peer"), std::string::npos) << got.status().message();

  Pair q;
  std::atomic<bool> cancel{true};
  auto c = RecvFrame(q.b.fd(), MonotonicNow() + 5, &cancel, "");
  EXPECT_EQ(c.status().code(), Status::Code::kCancelled);
}

TEST(net_protocol_test, typed_fields_reject_wrong_types) {
  nlohmann::json m = {{"s", "x"}, {"i", 3}, {"d", 1.5}, {"c", {1, 2}}, {"neg", {-1, 2}}};
  EXPECT_EQ(*GetString(m, "s"), "x");
  EXPECT_FALSE(GetString(m, "i").ok());
  EXPECT_EQ(*GetInt(m, "i"), 3);
  EXPECT_FALSE(GetInt(m, "d").ok());
  EXPECT_DOUBLE_EQ(*GetNumber(m, "i"), 3.0);
  EXPECT_EQ(GetCounts(m, "c", 2)->size(), 2u);
  EXPECT_FALSE(GetCounts(m, "c", 3).ok());
  EXPECT_FALSE(GetCounts(m, "neg", 2).ok());
}

TEST(net_protocol_test, payload_is_deterministic_per_seed_and_looks_random) {
  std::string a(1 << 16, '\0'), b(a.size(), '\0'), c(a.size(), '\0');
  PayloadGenerator("s/0").Fill(a.data(), a.size());
  PayloadGenerator("s/0").Fill(b.data(), b.size());
  PayloadGenerator("s/1").Fill(c.data(), c.size());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Byte histogram: every value near 1/256 (chi-square with 255 dof is ~255 +- 23).
  std::array<double, 256> hist{};
  for (unsigned char ch : a) hist[ch] += 1;
  double expected = static_cast<double>(a.size()) / 256, chi2 = 0;
  for (double h : hist) chi2 += (h - expected) * (h - expected) / expected;
  EXPECT_LT(chi2, 400);
}

TEST(net_protocol_test, jws_payload) {
  auto payload = JwsCompactPayload("eyJ9." + Base64UrlEncode("{\"a\":1}") + ".sig");
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(*payload, "{\"a\":1}");
  EXPECT_FALSE(JwsCompactPayload("a.b").ok());
}

TEST(net_protocol_test, canonical_summary_is_sorted_and_stable) {
  nlohmann::json s = {{"z", 1}, {"a", {{"y", 0.1}, {"b", {1, 2}}}}};
  const std::string c = CanonicalSummary(s);
  EXPECT_EQ(c, "{\"a\":{\"b\":[1,2],\"y\":0.1},\"z\":1}");
  EXPECT_EQ(CanonicalSummary(nlohmann::json::parse(c)), c);
}

TEST(net_protocol_test, nearest_rank_percentiles) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i * 1e-6);
  RttStats s = ComputeRttStats(v);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.min, 1e-6);
  EXPECT_DOUBLE_EQ(s.p50, 50e-6);
  EXPECT_DOUBLE_EQ(s.p99, 99e-6);
  EXPECT_DOUBLE_EQ(s.max, 100e-6);
  EXPECT_NEAR(s.mean, 50.5e-6, 1e-12);
  RttStats one = ComputeRttStats({0.5});
  EXPECT_DOUBLE_EQ(one.p50, 0.5);
  EXPECT_DOUBLE_EQ(one.p99, 0.5);
}

TEST(net_protocol_test, random_hex_has_requested_size) {
  std::string a = RandomHex(16), b = RandomHex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace resmeter
