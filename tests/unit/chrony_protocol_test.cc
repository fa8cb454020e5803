// The chronyd command protocol against bytes recorded from chronyd 4.3
// (tests/fixtures/chrony/, recorded by tests/integration/chrony_nts_test.cc),
// including truncated and malformed replies.
#include "timesource/chrony_protocol.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/strings.h"
#include "support/chrony_conversation.h"
#include "timesource/chrony_client.h"

namespace resmeter {
namespace {

namespace fs = std::filesystem;
using testing::ReadBytes;
using testing::ReplayTransport;

const fs::path kDir = fs::path(RESMETER_FIXTURES_DIR) / "chrony";

// A client over a replay of one recorded conversation.
struct Replay {
  explicit Replay(const std::string& name) {
    auto t = std::make_unique<ReplayTransport>(kDir / name, &errors);
    transport = t.get();
    client = std::make_unique<ChronyClient>(std::move(t), ChronyClientOptions{0.05, 2});
  }
  std::vector<std::string> errors;
  ReplayTransport* transport = nullptr;
  std::unique_ptr<ChronyClient> client;
};

TEST(ChronyFloat, decodes_exponent_and_signed_coefficient) {
  EXPECT_EQ(chrony::DecodeFloat(0), 0.0);
  EXPECT_EQ(chrony::DecodeFloat((25u << 25) | 1u), 1.0);                     // coef 1, exp 25
  EXPECT_EQ(chrony::DecodeFloat((25u << 25) | 0x1ffffffu), -1.0);            // coef -1
  EXPECT_EQ(chrony::DecodeFloat(1u), std::ldexp(1.0, -25));                  // exp 0
  EXPECT_EQ(chrony::DecodeFloat((0x7fu << 25) | 1u), std::ldexp(1.0, -26));  // exp -1
  EXPECT_EQ(chrony::DecodeFloat((0x3fu << 25) | 0xffffffu), std::ldexp(double(0xffffff), 63 - 25));
}

TEST(ChronyFloat, encode_round_trips_with_25_bit_precision) {
  for (double v : {1.0, -1.0, 0.5, 3.14159, -2.5e-6, 6.88e-6, 1.8e-4, 1e6, -123456.789, 1e-9}) {
    double back = chrony::DecodeFloat(chrony::EncodeFloat(v));
    EXPECT_NEAR(back, v, std::fabs(v) * 1.2e-7) << v;
  }
  EXPECT_EQ(chrony::DecodeFloat(chrony::EncodeFloat(0.0)), 0.0);
}

TEST(ChronyRequest, encoding_matches_recorded_chronyd_requests) {
  // Our encoder must produce the bytes that chronyd accepted, sequence aside.
  for (const char* name : {"nts/00-33", "nts/01-14", "nts/02-15", "nts/03-67", "nts/04-57"}) {
    std::string want = ReadBytes(kDir / (std::string(name) + ".req"));
    ASSERT_GE(want.size(), 20u) << name;
    uint32_t seq = testing::BeAt(want, 8, 4);
    uint16_t cmd = static_cast<uint16_t>(testing::BeAt(want, 4, 2));
    chrony::IpAddr lo = chrony::ParseIpAddr("127.0.0.1").value();
    std::string got;
    switch (cmd) {
      case chrony::kReqTracking:
        got = chrony::EncodeTrackingRequest(seq, 0);
        break;
      case chrony::kReqNSources:
        got = chrony::EncodeNSourcesRequest(seq, 0);
        break;
      case chrony::kReqSourceData:
        got = chrony::EncodeSourceDataRequest(0, seq, 0);
        break;
      case chrony::kReqAuthData:
        got = chrony::EncodeAuthDataRequest(lo, seq, 0);
        break;
      case chrony::kReqNtpData:
        got = chrony::EncodeNtpDataRequest(lo, seq, 0);
        break;
    }
    EXPECT_EQ(HexEncode(got), HexEncode(want)) << name;
  }
}

TEST(ChronyRequest, pads_to_reply_length_as_chronyc_does) {
  EXPECT_EQ(chrony::EncodeTrackingRequest(1, 0).size(), 104u);
  EXPECT_EQ(chrony::EncodeNSourcesRequest(1, 0).size(), 32u);
  EXPECT_EQ(chrony::EncodeSourceDataRequest(0, 1, 0).size(), 76u);
  EXPECT_EQ(chrony::EncodeAuthDataRequest({}, 1, 0).size(), 52u);
  EXPECT_EQ(chrony::EncodeNtpDataRequest({}, 1, 0).size(), 152u);
}

TEST(ChronyReply, decodes_recorded_nts_tracking_and_sources) {
  Replay r("nts");
  auto t = r.client->Tracking();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->ref_id, 0x7F000001u);
  EXPECT_EQ(t->ip.ToString(), "127.0.0.1");
  EXPECT_EQ(t->stratum, 2);
  EXPECT_EQ(t->leap_status, chrony::kLeapNormal);
  EXPECT_GT(t->ref_time_seconds, 1.7e9);
  EXPECT_GT(t->root_delay_seconds, 0);
  EXPECT_LT(t->root_delay_seconds, 0.01);
  EXPECT_GT(t->root_dispersion_seconds, 0);
  EXPECT_LT(std::fabs(t->current_correction_seconds), 0.01);
  auto n = r.client->NumSources();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  auto s = r.client->Source(0);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->ip.ToString(), "127.0.0.1");
  EXPECT_EQ(s->state, chrony::kStateSelected);
  EXPECT_EQ(s->mode, chrony::kModeClient);
  EXPECT_EQ(s->stratum, 1);
  auto a = r.client->AuthData(s->ip);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->mode, chrony::kAuthNts);
  EXPECT_GT(a->cookies, 0);
  auto d = r.client->NtpData(s->ip);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->remote.ToString(), "127.0.0.1");
  EXPECT_EQ(d->stratum, 1);
  EXPECT_EQ(d->mode, 4);  // server
  EXPECT_EQ(d->version, 4);
  EXPECT_NE(d->flags & chrony::kNtpFlagAuthenticated, 0);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
}

TEST(ChronyReply, decodes_recorded_plain_and_unsynchronised_states) {
  Replay plain("plain");
  ASSERT_TRUE(plain.client->Tracking().ok());
  ASSERT_TRUE(plain.client->NumSources().ok());
  auto s = plain.client->Source(0);
  ASSERT_TRUE(s.ok());
  auto a = plain.client->AuthData(s->ip);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->mode, chrony::kAuthNone);

  Replay unsync("unsynchronised");
  auto t = unsync.client->Tracking();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->leap_status, chrony::kLeapUnsynchronised);
  EXPECT_EQ(t->ref_id, 0u);
  EXPECT_EQ(t->ip.family, 0);
}

TEST(ChronyReply, every_truncation_is_corruption_not_a_crash) {
  for (const char* name : {"00-33", "01-14", "02-15", "03-67", "04-57"}) {
    std::string full = ReadBytes(kDir / "nts" / (std::string(name) + ".rpy"));
    ASSERT_FALSE(full.empty()) << name;
    uint16_t cmd = static_cast<uint16_t>(testing::BeAt(full, 4, 2));
    uint16_t rpy = static_cast<uint16_t>(testing::BeAt(full, 6, 2));
    for (size_t len = 0; len < full.size(); ++len) {
      std::string cut = full.substr(0, len);
      Result<std::string_view> data = chrony::CheckReply(cut, cmd, rpy);
      Status st = data.ok() ? Status::Ok() : data.status();
      if (data.ok()) {
        switch (rpy) {
          case chrony::kRpyTracking:
            st = chrony::DecodeTracking(*data).status();
            break;
          case chrony::kRpyNSources:
            st = chrony::DecodeNSources(*data).status();
            break;
          case chrony::kRpySourceData:
            st = chrony::DecodeSourceData(*data).status();
            break;
          case chrony::kRpyAuthData:
            st = chrony::DecodeAuthData(*data).status();
            break;
          case chrony::kRpyNtpData:
            st = chrony::DecodeNtpData(*data).status();
            break;
        }
      }
      // NTP data keeps working without its trailing reserved words.
      if (rpy == chrony::kRpyNtpData && len >= 28 + 108) {
        EXPECT_TRUE(st.ok()) << name << " len " << len;
        continue;
      }
      EXPECT_EQ(st.code(), Status::Code::kCorruption) << name << " len " << len << ": " << st.ToString();
      EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();
    }
  }
}

TEST(ChronyReply, truncated_reply_through_client_fails_fast) {
  Replay r("nts");
  std::string full = r.transport->Reply(0);
  r.transport->SetReply(0, full.substr(0, 50));
  auto t = r.client->Tracking();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kCorruption);
  EXPECT_EQ(r.client->requests_sent(), 1);
}

// Returns the recorded tracking reply with one byte changed.
std::string Patched(size_t offset, uint8_t value) {
  std::string b = ReadBytes(kDir / "nts" / "00-33.rpy");
  b.at(offset) = static_cast<char>(value);
  return b;
}

TEST(ChronyReply, malformed_headers_are_named) {
  auto check = [](const std::string& packet) {
    Result<std::string_view> d = chrony::CheckReply(packet, chrony::kReqTracking, chrony::kRpyTracking);
    return d.ok() ? Status::Ok() : d.status();
  };
  EXPECT_TRUE(check(Patched(2, 0)).ok());  // reserved byte ignored
  Status type = check(Patched(1, 1));      // a request, not a reply
  EXPECT_EQ(type.code(), Status::Code::kCorruption);
  EXPECT_NE(type.message().find("packet type"), std::string::npos);
  Status version = check(Patched(0, 5));
  EXPECT_EQ(version.code(), Status::Code::kNotSupported);
  EXPECT_NE(version.message().find("version 5"), std::string::npos) << version.message();
  Status command = check(Patched(5, 14));  // answers n_sources
  EXPECT_EQ(command.code(), Status::Code::kCorruption);
  Status reply = check(Patched(7, 2));  // reply code n_sources
  EXPECT_EQ(reply.code(), Status::Code::kCorruption);
  EXPECT_NE(reply.message().find("reply code 2"), std::string::npos);
  Status unauth = check(Patched(9, chrony::kSttUnauth));
  EXPECT_EQ(unauth.code(), Status::Code::kPermissionDenied);
  EXPECT_NE(unauth.message().find("unauthorised"), std::string::npos);
  Status nosrc = check(Patched(9, chrony::kSttNoSuchSource));
  EXPECT_EQ(nosrc.code(), Status::Code::kNotFound);
  Status badlen = check(Patched(9, chrony::kSttBadPktLength));
  EXPECT_EQ(badlen.code(), Status::Code::kIOError);
  EXPECT_NE(badlen.message().find("bad packet length"), std::string::npos);
}

TEST(ChronyReply, impossible_leap_status_is_corruption) {
  std::string b = Patched(28 + 4 + 20 + 2 + 1, 7);
  auto t = chrony::DecodeTracking(std::string_view(b).substr(28));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kCorruption);
}

// A transport that loses the first `drop` requests, then answers with the
// recorded tracking reply, preceded by a stale reply with another sequence.
class LossyTransport final : public ChronyTransport {
 public:
  explicit LossyTransport(int drop) : drop_(drop) {}
  Status Send(std::string_view packet) override {
    sent.emplace_back(packet);
    return Status::Ok();
  }
  Result<std::string> Receive(double) override {
    if (static_cast<int>(sent.size()) <= drop_) return Status::DeadlineExceeded("chronyd busy: lost");
    std::string reply = ReadBytes(kDir / "nts" / "00-33.rpy");
    if (!stale_sent_) {
      stale_sent_ = true;
      reply[16] = static_cast<char>(~sent.back()[8]);  // someone else's sequence
      return reply;
    }
    for (int i = 0; i < 4; ++i) reply[16 + i] = sent.back()[8 + i];
    return reply;
  }
  std::string Endpoint() const override { return "lossy"; }
  std::vector<std::string> sent;

 private:
  int drop_;
  bool stale_sent_ = false;
};

TEST(ChronyClientRetry, retries_with_attempt_counter_and_drops_stale_replies) {
  auto t = std::make_unique<LossyTransport>(2);
  LossyTransport* raw = t.get();
  ChronyClient client(std::move(t), ChronyClientOptions{0.05, 3}, [] { return 0x01020304u; });
  auto tracking = client.Tracking();
  ASSERT_TRUE(tracking.ok()) << tracking.status().ToString();
  ASSERT_EQ(raw->sent.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(testing::BeAt(raw->sent[i], 6, 2), i) << "attempt field";
    EXPECT_EQ(testing::BeAt(raw->sent[i], 8, 4), 0x01020304u) << "same sequence on every attempt";
  }
}

TEST(ChronyClientRetry, gives_up_after_attempts_with_busy_status) {
  ChronyClient client(std::make_unique<LossyTransport>(100), ChronyClientOptions{0.01, 4});
  auto tracking = client.Tracking();
  ASSERT_FALSE(tracking.ok());
  EXPECT_EQ(tracking.status().code(), Status::Code::kDeadlineExceeded);
  EXPECT_EQ(tracking.status().message().rfind("chronyd busy", 0), 0u) << tracking.status().message();
  EXPECT_EQ(client.requests_sent(), 4);
}

TEST(ChronyClientRetry, stops_when_the_query_budget_is_spent) {
  ChronyClient client(std::make_unique<LossyTransport>(0), ChronyClientOptions{0.05, 3, 0.0});
  auto tracking = client.Tracking();
  ASSERT_FALSE(tracking.ok());
  EXPECT_EQ(tracking.status().code(), Status::Code::kDeadlineExceeded);
  EXPECT_NE(tracking.status().message().find("budget"), std::string::npos) << tracking.status().message();
  EXPECT_EQ(client.requests_sent(), 0);
}

TEST(ChronyAddress, formats_and_parses) {
  EXPECT_EQ(chrony::ParseIpAddr("127.0.0.1")->ToString(), "127.0.0.1");
  EXPECT_EQ(chrony::ParseIpAddr("::1")->ToString(), "::1");
  EXPECT_FALSE(chrony::ParseIpAddr("time.example").ok());
  chrony::IpAddr id;
  id.family = 3;
  id.bytes[3] = 5;
  EXPECT_EQ(id.ToString(), "ID#0000000005");
  EXPECT_EQ(chrony::IpAddr{}.ToString(), "");
}

}  // namespace
}  // namespace resmeter
