// net.throughput and net.latency against a real PeerServer on loopback, no
// root needed: both signatures verify, numbers match the signed summary, a
// down target fails alone, and the peer enforces its limits.
#include <gtest/gtest.h>

#include "peer/net_peer_server.h"
#include "peer/net_protocol.h"
#include "policy/net_cosign.h"
#include "jose/signing_key.h"
#include "support/net_test_support.h"

namespace resmeter {
namespace {

using testing::RunNetMeter;

class NetLoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    agent_ = *SigningKey::Generate("EdDSA");
    peer_key_ = *SigningKey::Generate("ES384");  // the peer may use the other algorithm
    PeerServerOptions o;
    o.listen = "127.0.0.1:0";
    o.idle_timeout_seconds = 2;
    o.max_streams = 8;
    server_ = std::make_unique<PeerServer>(o, peer_key_.get());
    ASSERT_TRUE(server_->Start().ok());
    target_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override { server_->Stop(); }

  std::shared_ptr<SigningKey> agent_, peer_key_;
  std::unique_ptr<PeerServer> server_;
  std::string target_;
};

TEST_F(NetLoopbackTest, throughput_both_directions_is_cosigned) {
  // Short phases keep the test quick; loopback moves far more than 1 MB in 0.3 s.
  MeterRun run = RunNetMeter("net.throughput",
                             {{"targets", {target_}}, {"streams", 2}, {"duration_seconds", 0.3}, {"omit_seconds", 0.1}},
                             agent_.get());
  ASSERT_EQ(run.result.status, MeterStatus::kOk) << run.result.reason;
  const auto& t = run.result.claims["targets"][0];
  EXPECT_EQ(t["status"], "ok");
  for (const char* phase : {"upload", "download"}) {
    std::string p = phase;
    EXPECT_GT(t[p + "_bps"].get<double>(), 1e6) << p;
    EXPECT_EQ(t[p + "_stream_bps"].size(), 2u);
    EXPECT_NEAR(t[p + "_window_seconds"].get<double>(), 0.3, 0.2);
  }
  // The honest peer's upload count stays within what the agent's own sockets accepted.
  EXPECT_LE(t["upload_bytes"].get<uint64_t>(), t["upload_sent_bytes"].get<uint64_t>());
  auto summary = VerifyNetCosignature(t, agent_->public_key());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ((*summary)["upload"]["counted_by"], "peer");
  EXPECT_EQ((*summary)["download"]["counted_by"], "client");
  EXPECT_EQ((*summary)["params"]["streams"], 2);
  EXPECT_EQ(t["peer_thumbprint"], peer_key_->Thumbprint());
  EXPECT_EQ(run.result.conditions["targets"][0]["peer_thumbprint"], peer_key_->Thumbprint());
  server_->Stop();  // joins the session thread, so its counters are final
  EXPECT_EQ(server_->counters().sessions_signed, 1u);

  // A claim edited after signing no longer verifies.
  nlohmann::json forged = t;
  forged["upload_bytes"] = t["upload_bytes"].get<uint64_t>() * 2;
  EXPECT_EQ(VerifyNetCosignature(forged, agent_->public_key()).status().code(), Status::Code::kVerifyFailed);
  // Nor does it verify against another agent key.
  auto other = *SigningKey::Generate("EdDSA");
  EXPECT_FALSE(VerifyNetCosignature(t, other->public_key()).ok());

  // What `resmeter verify` checks in a report: every ok target, failed ones skipped.
  nlohmann::json failed = {{"target", "10.0.0.1:7300"}, {"status", "failed"}, {"reason", "refused"}};
  nlohmann::json claims = {{"submods", {{"net.throughput", {{"claims", {{"targets", {t, forged, failed}}}}}}}}};
  std::vector<NetCosignCheck> checks = VerifyReportNetCosignatures(claims, agent_->public_key());
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_TRUE(checks[0].passed) << checks[0].detail;
  EXPECT_EQ(checks[0].target, target_);
  EXPECT_FALSE(checks[1].passed);
  EXPECT_NE(checks[1].detail.find("upload numbers differ"), std::string::npos) << checks[1].detail;
}

TEST_F(NetLoopbackTest, latency_percentiles_are_ordered_and_cosigned) {
  MeterRun run = RunNetMeter("net.latency", {{"targets", {target_}}, {"count", 50}, {"interval_seconds", 0.0}},
                             agent_.get());
  ASSERT_EQ(run.result.status, MeterStatus::kOk) << run.result.reason;
  const auto& t = run.result.claims["targets"][0];
  EXPECT_EQ(t["rtt_count"], 50);
  EXPECT_GT(t["rtt_min_seconds"].get<double>(), 0);
  EXPECT_LE(t["rtt_min_seconds"].get<double>(), t["rtt_p50_seconds"].get<double>());
  EXPECT_LE(t["rtt_p50_seconds"].get<double>(), t["rtt_p99_seconds"].get<double>());
  EXPECT_LE(t["rtt_p99_seconds"].get<double>(), t["rtt_max_seconds"].get<double>());
  auto summary = VerifyNetCosignature(t, agent_->public_key());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ((*summary)["latency"]["count"], 50);
}

TEST_F(NetLoopbackTest, down_target_fails_alone_and_is_a_finding) {
  const std::string down = testing::ClosedLoopbackTarget();
  MeterRun run = RunNetMeter("net.latency", {{"targets", {down, target_}}, {"count", 5}}, agent_.get());
  ASSERT_EQ(run.result.status, MeterStatus::kOk) << run.result.reason;
  EXPECT_EQ(run.result.claims["targets_ok"], 1);
  EXPECT_EQ(run.result.claims["targets_failed"], 1);
  const auto& bad = run.result.claims["targets"][0];
  EXPECT_EQ(bad["status"], "failed");
  EXPECT_NE(bad["reason"].get<std::string>().find("Connection refused"), std::string::npos) << bad["reason"];
  ASSERT_EQ(run.result.findings.size(), 1u);
  EXPECT_EQ(run.result.findings[0].code, "peer_failed");
}

TEST_F(NetLoopbackTest, peer_refuses_parameters_beyond_its_limits) {
  MeterRun run = RunNetMeter("net.throughput", {{"targets", {target_}}, {"streams", 16}}, agent_.get());
  ASSERT_EQ(run.result.status, MeterStatus::kFailed);
  EXPECT_NE(run.result.reason.find("params.streams=16 outside the peer's limits"), std::string::npos)
      << run.result.reason;
  server_->Stop();
  EXPECT_EQ(server_->counters().sessions_refused, 1u);
}

TEST_F(NetLoopbackTest, no_targets_is_unavailable) {
  MeterRun run = RunNetMeter("net.throughput", nlohmann::json::object(), agent_.get());
  EXPECT_EQ(run.result.status, MeterStatus::kUnavailable);
  EXPECT_NE(run.result.reason.find("meters.net.throughput.targets"), std::string::npos);
}

TEST_F(NetLoopbackTest, without_agent_key_only_the_peer_signs) {
  MeterRun run = RunNetMeter("net.latency", {{"targets", {target_}}, {"count", 3}}, nullptr);
  ASSERT_EQ(run.result.status, MeterStatus::kOk) << run.result.reason;
  EXPECT_FALSE(run.result.claims["targets"][0].contains("agent_signature_jws"));
  EXPECT_EQ(run.result.findings.back().code, "no_agent_signature");
}

TEST_F(NetLoopbackTest, peer_survives_garbage_and_serves_the_next_client) {
  auto s = ConnectTcp(*ParseHostPort(target_), MonotonicNow() + 2, nullptr);
  ASSERT_TRUE(s.ok());
  const std::string junk = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_TRUE(WriteAll(s->fd(), junk.data(), junk.size(), MonotonicNow() + 1, nullptr, "junk").ok());
  char c;
  // The peer closes the connection rather than waiting for more.
  Status closed = ReadFull(s->fd(), &c, 1, MonotonicNow() + 3, nullptr, "reply");
  EXPECT_EQ(closed.code(), Status::Code::kIOError) << closed.ToString();
  MeterRun run = RunNetMeter("net.latency", {{"targets", {target_}}, {"count", 3}}, agent_.get());
  EXPECT_EQ(run.result.status, MeterStatus::kOk) << run.result.reason;
}

TEST(net_loopback_peer_limits_test, sessions_beyond_max_sessions_are_refused_as_busy) {
  auto agent = *SigningKey::Generate("EdDSA");
  auto peer_key = *SigningKey::Generate("EdDSA");
  PeerServerOptions o;
  o.listen = "127.0.0.1:0";
  o.max_sessions = 1;
  o.idle_timeout_seconds = 3;
  PeerServer server(o, peer_key.get());
  ASSERT_TRUE(server.Start().ok());
  const std::string target = "127.0.0.1:" + std::to_string(server.port());
  // Hold one session open by hand (hello answered, then silence).
  auto held = ConnectTcp(*ParseHostPort(target), MonotonicNow() + 2, nullptr);
  ASSERT_TRUE(held.ok());
  nlohmann::json hello = {{"type", "hello"}, {"protocol", kNetProtocolVersion}, {"test", "latency"},
                          {"client_nonce", RandomHex(16)}, {"client_thumbprint", ""},
                          {"params", {{"count", 1}, {"message_bytes", 16}, {"interval_seconds", 0}}}};
  ASSERT_TRUE(SendFrame(held->fd(), hello, MonotonicNow() + 1, nullptr).ok());
  ASSERT_TRUE(RecvFrame(held->fd(), MonotonicNow() + 2, nullptr, "welcome").ok());
  MeterRun run = RunNetMeter("net.latency", {{"targets", {target}}, {"count", 3}}, agent.get());
  EXPECT_EQ(run.result.status, MeterStatus::kFailed);
  EXPECT_NE(run.result.reason.find("peer error: busy"), std::string::npos) << run.result.reason;
  held->Close();
  server.Stop();
  EXPECT_EQ(server.counters().sessions_refused, 1u);
}

TEST_F(NetLoopbackTest, stalled_client_is_dropped_after_the_idle_timeout) {
  auto s = ConnectTcp(*ParseHostPort(target_), MonotonicNow() + 2, nullptr);
  ASSERT_TRUE(s.ok());
  const double start = MonotonicNow();
  char c;
  Status closed = ReadFull(s->fd(), &c, 1, start + 10, nullptr, "reply");
  const double took = MonotonicNow() - start;
  EXPECT_EQ(closed.code(), Status::Code::kIOError) << closed.ToString();
  EXPECT_GE(took, 1.5);  // idle timeout is 2 s
  EXPECT_LT(took, 6.0);
}

}  // namespace
}  // namespace resmeter
