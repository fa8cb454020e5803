// net.* meters against peers that misbehave on purpose (on loopback): each
// ends its target `failed` with a clear reason, within the io timeout.
#include <gtest/gtest.h>

#include "core/base64url.h"
#include "peer/net_protocol.h"
#include "jose/signing_key.h"
#include "support/net_test_support.h"

namespace resmeter {
namespace {

using testing::FakePeer;
using testing::IdleUntil;
using testing::RunNetMeter;

constexpr double kIoTimeout = 0.5;
// Generous bound on how long a failing session may take: the io timeout plus
// scheduling slack on a shared 2-core machine (failures are expected in ~0.5 s).
constexpr double kMaxSeconds = 4.0;

// Runs net.throughput (short phases) against `target` and checks it failed
// within kMaxSeconds + `extra` with a reason containing `expect`.
void ExpectFailure(const std::string& meter, const std::string& target, const std::string& expect, double extra = 0) {
  auto key = *SigningKey::Generate("EdDSA");
  nlohmann::json o = {{"targets", {target}}, {"io_timeout_seconds", kIoTimeout}};
  if (meter == "net.throughput") {
    o["duration_seconds"] = 0.3;
    o["omit_seconds"] = 0.1;
    o["streams"] = 2;
  } else {
    o["count"] = 5;
  }
  const double start = MonotonicNow();
  MeterRun run = RunNetMeter(meter, o, key.get(), 20);
  const double took = MonotonicNow() - start;
  EXPECT_EQ(run.result.status, MeterStatus::kFailed);
  EXPECT_NE(run.result.reason.find(expect), std::string::npos) << "reason: " << run.result.reason;
  EXPECT_LT(took, kMaxSeconds + extra) << run.result.reason;
  ASSERT_EQ(run.result.claims["targets"].size(), 1u);
  EXPECT_EQ(run.result.claims["targets"][0]["status"], "failed");
  std::printf("    %s -> %s (%.2f s)\n", meter.c_str(), run.result.reason.c_str(), took);
}

using Step = std::function<void(Socket&, const std::atomic<bool>&)>;

// Answers a hello with a valid welcome, then hands over to `after`; data
// connections (attach) go to `data`, or are closed at once when it is empty.
FakePeer::Behaviour Welcoming(Step after, Step data = {}) {
  return [after, data](Socket s, const std::atomic<bool>& stop) {
    auto first = RecvFrame(s.fd(), MonotonicNow() + 2, &stop, "");
    if (!first.ok()) return;
    if ((*first)["type"] != "hello") {
      if (data) data(s, stop);
      return;
    }
    nlohmann::json w = {{"type", "welcome"}, {"protocol", kNetProtocolVersion}, {"session", RandomHex(16)},
                        {"server_nonce", RandomHex(16)}, {"peer_jwk", {{"kty", "OKP"}}}, {"peer_thumbprint", "x"},
                        {"client_address_seen", "127.0.0.1:1"}};
    if (!SendFrame(s.fd(), w, MonotonicNow() + 1, &stop).ok()) return;
    after(s, stop);
  };
}

TEST(net_misbehaving_peer_test, down_peer_is_refused) {
  ExpectFailure("net.throughput", testing::ClosedLoopbackTarget(), "connect: Connection refused");
}

TEST(net_misbehaving_peer_test, garbage_instead_of_welcome) {
  FakePeer peer([](Socket s, const std::atomic<bool>&) {
    const std::string junk = "SSH-2.0-OpenSSH_9.2\r\n";
    (void)WriteAll(s.fd(), junk.data(), junk.size(), MonotonicNow() + 1, nullptr, "junk");
  });
  ExpectFailure("net.throughput", peer.target(), "garbage instead of 'welcome' frame");
}

TEST(net_misbehaving_peer_test, garbage_json_frame) {
  FakePeer peer([](Socket s, const std::atomic<bool>&) {
    const std::string junk("\0\0\0\x08[1,2,3]!", 12);
    (void)WriteAll(s.fd(), junk.data(), junk.size(), MonotonicNow() + 1, nullptr, "junk");
  });
  ExpectFailure("net.latency", peer.target(), "not a JSON object");
}

TEST(net_misbehaving_peer_test, stall_after_connect) {
  FakePeer peer([](Socket, const std::atomic<bool>& stop) { IdleUntil(stop, 10); });
  ExpectFailure("net.throughput", peer.target(), "timed out");
}

TEST(net_misbehaving_peer_test, early_close_after_hello) {
  FakePeer peer([](Socket s, const std::atomic<bool>& stop) { (void)RecvFrame(s.fd(), MonotonicNow() + 2, &stop, ""); });
  ExpectFailure("net.latency", peer.target(), "closed by peer");
}

TEST(net_misbehaving_peer_test, stall_after_welcome) {
  FakePeer peer(Welcoming([](Socket&, const std::atomic<bool>& stop) { IdleUntil(stop, 10); }));
  ExpectFailure("net.throughput", peer.target(), "timed out");
}

TEST(net_misbehaving_peer_test, stall_instead_of_upload_counts) {
  // Says started, then never reports counts: fails after omit + duration + io timeout.
  FakePeer peer(Welcoming([](Socket& s, const std::atomic<bool>& stop) {
    if (!RecvFrame(s.fd(), MonotonicNow() + 2, &stop, "start").ok()) return;
    (void)SendFrame(s.fd(), {{"type", "started"}, {"phase", "upload"}}, MonotonicNow() + 1, &stop);
    IdleUntil(stop, 10);
  }, [](Socket&, const std::atomic<bool>& stop) { IdleUntil(stop, 10); }));
  ExpectFailure("net.throughput", peer.target(), "upload: reading 'counts' frame: timed out", 0.4);
}

TEST(net_misbehaving_peer_test, early_close_during_download) {
  // Starts the download phase but never sends a byte and closes: the
  // receivers see the data connections end before the window.
  FakePeer peer(Welcoming([](Socket& s, const std::atomic<bool>& stop) {
    for (int i = 0; i < 2; ++i) {
      auto m = RecvFrame(s.fd(), MonotonicNow() + 2, &stop, "start");
      if (!m.ok()) return;
      (void)SendFrame(s.fd(), {{"type", "started"}, {"phase", (*m)["phase"]}}, MonotonicNow() + 1, &stop);
      if ((*m)["phase"] == "upload") {
        (void)SendFrame(s.fd(), {{"type", "counts"}, {"phase", "upload"}, {"window_seconds", 0.3}, {"stream_bytes", {1, 1}}},
                        MonotonicNow() + 1, &stop);
      } else {
        return;  // closes the control connection mid-phase
      }
    }
  }));
  auto key = *SigningKey::Generate("EdDSA");
  const double start = MonotonicNow();
  MeterRun run = RunNetMeter("net.throughput",
                             {{"targets", {peer.target()}}, {"io_timeout_seconds", kIoTimeout}, {"duration_seconds", 0.3},
                              {"omit_seconds", 0.1}, {"streams", 2}, {"directions", "download"}},
                             key.get(), 20);
  const double took = MonotonicNow() - start;
  EXPECT_EQ(run.result.status, MeterStatus::kFailed);
  // This fake peer closes the data connections right after attach.
  EXPECT_NE(run.result.reason.find("download: data stream"), std::string::npos) << run.result.reason;
  EXPECT_NE(run.result.reason.find("closed by peer before the measurement window ended"), std::string::npos)
      << run.result.reason;
  EXPECT_LT(took, kMaxSeconds);
}

TEST(net_misbehaving_peer_test, peer_error_frame_is_passed_on) {
  FakePeer peer([](Socket s, const std::atomic<bool>& stop) {
    (void)RecvFrame(s.fd(), MonotonicNow() + 2, &stop, "");
    SendErrorFrame(s.fd(), "busy: 4 sessions running, retry later", MonotonicNow() + 1);
  });
  ExpectFailure("net.latency", peer.target(), "peer error: busy");
}

TEST(net_misbehaving_peer_test, silent_download_streams_fail) {
  // Data connections stay open but carry nothing: no byte in the window.
  FakePeer peer(Welcoming(
      [](Socket& s, const std::atomic<bool>& stop) {
        auto m = RecvFrame(s.fd(), MonotonicNow() + 2, &stop, "start");
        if (!m.ok()) return;
        (void)SendFrame(s.fd(), {{"type", "started"}, {"phase", "download"}}, MonotonicNow() + 1, &stop);
        IdleUntil(stop, 10);
      },
      [](Socket&, const std::atomic<bool>& stop) { IdleUntil(stop, 10); }));
  auto key = *SigningKey::Generate("EdDSA");
  MeterRun run = RunNetMeter("net.throughput",
                             {{"targets", {peer.target()}}, {"io_timeout_seconds", kIoTimeout}, {"duration_seconds", 0.3},
                              {"omit_seconds", 0.1}, {"streams", 2}, {"directions", "download"}},
                             key.get(), 20);
  EXPECT_EQ(run.result.status, MeterStatus::kFailed);
  EXPECT_NE(run.result.reason.find("download: no payload byte arrived"), std::string::npos) << run.result.reason;
}

// A peer that drains our upload streams (counting what arrived in `received`)
// and then reports the upload counts `report` makes of that number.
FakePeer::Behaviour LyingUploadPeer(std::shared_ptr<std::atomic<uint64_t>> received,
                                    std::function<nlohmann::json(uint64_t received)> report) {
  return Welcoming(
      [received, report](Socket& s, const std::atomic<bool>& stop) {
        if (!RecvFrame(s.fd(), MonotonicNow() + 2, &stop, "start").ok()) return;
        (void)SendFrame(s.fd(), {{"type", "started"}, {"phase", "upload"}}, MonotonicNow() + 1, &stop);
        IdleUntil(stop, 0.4);  // omit + duration of ExpectFailure
        nlohmann::json counts = report(received->load());
        counts["type"] = "counts";
        counts["phase"] = "upload";
        (void)SendFrame(s.fd(), counts, MonotonicNow() + 1, &stop);
        IdleUntil(stop, 2);
      },
      [received](Socket& s, const std::atomic<bool>& stop) {  // drain until EOF
        std::vector<char> buf(1 << 16);
        while (!stop.load()) {
          if (!WaitFd(s.fd(), POLLIN, MonotonicNow() + 0.1, &stop).ok()) continue;
          ssize_t r = ::recv(s.fd(), buf.data(), buf.size(), 0);
          if (r <= 0) return;
          received->fetch_add(static_cast<uint64_t>(r));
        }
      });
}

TEST(net_misbehaving_peer_test, peer_claiming_a_megabyte_in_a_microsecond_is_rejected) {
  // 1 MB in 1 us would sign as 8000 Gbit/s if the agent took the peer's window.
  auto received = std::make_shared<std::atomic<uint64_t>>(0);
  FakePeer peer(LyingUploadPeer(received, [](uint64_t) {
    return nlohmann::json{{"window_seconds", 1e-6}, {"stream_bytes", {500000, 500000}}};
  }));
  ExpectFailure("net.throughput", peer.target(),
                "upload: peer reports 1000000 bytes in 1e-06 s: window shorter than the configured 0.3 s");
}

TEST(net_misbehaving_peer_test, peer_claiming_more_bytes_than_sent_is_rejected) {
  // Reports more than really arrived, over a plausible window.
  auto received = std::make_shared<std::atomic<uint64_t>>(0);
  FakePeer peer(LyingUploadPeer(received, [](uint64_t got) {
    // Above what either stream can have sent: all that arrived, twice, plus
    // more than the socket buffers can hold in flight.
    const uint64_t per_stream = 2 * got + (uint64_t{64} << 20);
    return nlohmann::json{{"window_seconds", 0.3}, {"stream_bytes", {per_stream, per_stream}}};
  }));
  ExpectFailure("net.throughput", peer.target(), "bytes but the agent sent only");
  EXPECT_GT(received->load(), 0u) << "the agent never sent anything: the check was not exercised";
}

TEST(net_misbehaving_peer_test, peer_claiming_a_window_longer_than_the_phase_is_rejected) {
  auto received = std::make_shared<std::atomic<uint64_t>>(0);
  FakePeer peer(LyingUploadPeer(received, [](uint64_t) {
    return nlohmann::json{{"window_seconds", 3600.0}, {"stream_bytes", {1, 1}}};
  }));
  ExpectFailure("net.throughput", peer.target(), "window longer than the whole phase");
}

TEST(net_misbehaving_peer_test, peer_signing_something_else_is_rejected) {
  // A peer that plays along but returns a signature over other bytes.
  FakePeer peer(Welcoming([](Socket& s, const std::atomic<bool>& stop) {
    auto start = RecvFrame(s.fd(), MonotonicNow() + 2, &stop, "start");
    if (!start.ok()) return;
    (void)SendFrame(s.fd(), {{"type", "started"}, {"phase", "latency"}}, MonotonicNow() + 1, &stop);
    auto counts = RecvFrame(s.fd(), MonotonicNow() + 3, &stop, "counts");
    if (!counts.ok()) return;
    (void)SendFrame(s.fd(), {{"type", "counts"}, {"phase", "latency"}, {"count", (*counts)["count"]}}, MonotonicNow() + 1, &stop);
    if (!RecvFrame(s.fd(), MonotonicNow() + 2, &stop, "sign").ok()) return;
    (void)SendFrame(s.fd(), {{"type", "signature"}, {"jws", "e30." + Base64UrlEncode("{}") + ".AA"}}, MonotonicNow() + 1, &stop);
    IdleUntil(stop, 1);
  }, [](Socket& s, const std::atomic<bool>& stop) {  // echo 64-byte messages until EOF
    char buf[64];
    while (ReadFull(s.fd(), buf, sizeof buf, MonotonicNow() + 2, &stop, "m").ok() &&
           WriteAll(s.fd(), buf, sizeof buf, MonotonicNow() + 1, &stop, "e").ok()) {
    }
  }));
  ExpectFailure("net.latency", peer.target(), "peer signed something other than the summary");
}

}  // namespace
}  // namespace resmeter
