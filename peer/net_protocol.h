// The resmeter network measurement protocol, shared by the net.* meters
// (client side, peer/net_client.h) and the peer responder
// (peer/net_peer_server.h).
//
// Framing: every control message is a frame of a 4-byte big-endian length
// followed by that many bytes of one JSON object with a "type" string. Frames
// are at most kMaxFrameBytes; every read is bounded by a deadline.
//
// A session (all on one control connection, client first):
//   C: hello   {protocol, test: "throughput"|"latency", client_nonce, client_thumbprint, params}
//   P: welcome {protocol, session, server_nonce, peer_jwk, peer_thumbprint} | error {message}
//   for each phase ("upload", "download" for throughput; "latency"):
//     C opens data connections to the same port; each first sends
//       attach {session, phase, stream}; then only payload bytes follow.
//     C: start {phase}            P: started {phase} (all data connections attached)
//     upload:   C writes; P counts; after omit+duration P: counts {phase, window_seconds, stream_bytes}
//     download: P writes; C counts; after omit+duration C: counts {phase, window_seconds, stream_bytes}
//     latency:  C sends `count` messages of message_bytes, P echoes each; C closes
//               the data connection, then C: counts {phase, count}; P: counts {phase, count}
//   C: sign {summary}  P: signature {jws} (after checking the summary against
//   what it saw: nonces, session, params, its own counts) | error {message}
//   C: bye
// Either side may send error {message} instead of the expected frame.
// Payload bytes come from a xoshiro256** generator seeded from both nonces
// and the stream index: incompressible, and never the same twice per session.
//
// Thread behaviour: free functions are thread-safe; a PayloadGenerator is not.
#pragma once

#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"

namespace resmeter {

inline constexpr int kNetProtocolVersion = 1;
inline constexpr size_t kMaxFrameBytes = 64 * 1024;
inline constexpr const char* kNetSummaryFormat = "resmeter-net-summary/1";

// Sends one frame holding `msg` (a JSON object with "type").
Status SendFrame(int fd, const nlohmann::json& msg, double deadline, const std::atomic<bool>* cancel);
// Receives one frame. Corruption ("garbage: ...") for an oversized length,
// bytes that are not a JSON object, or a missing type; IOError "peer error:
// MSG" when the other side sent an error frame; Corruption when the type is
// not `expect_type` (empty: any type accepted).
Result<nlohmann::json> RecvFrame(int fd, double deadline, const std::atomic<bool>* cancel,
                                 const std::string& expect_type);
// Sends {"type":"error","message":msg}, best effort within `deadline`.
void SendErrorFrame(int fd, const std::string& msg, double deadline);

// Typed field access on a received message; Corruption naming the field.
Result<std::string> GetString(const nlohmann::json& msg, const std::string& key);
Result<int64_t> GetInt(const nlohmann::json& msg, const std::string& key);
Result<double> GetNumber(const nlohmann::json& msg, const std::string& key);
Result<std::vector<uint64_t>> GetCounts(const nlohmann::json& msg, const std::string& key, size_t want);

// `bytes` random bytes from the kernel (getrandom), lowercase hex.
std::string RandomHex(size_t bytes);

// Fast deterministic bytes: xoshiro256** seeded by hashing a string.
class PayloadGenerator {
 public:
  explicit PayloadGenerator(const std::string& seed);
  // Fills `n` bytes with the next output.
  void Fill(char* out, size_t n);
  uint64_t Next();

 private:
  uint64_t s_[4];
};

// The canonical byte string both sides sign: the summary as compact JSON
// with sorted keys (nlohmann's object order), UTF-8.
std::string CanonicalSummary(const nlohmann::json& summary);
// Decodes the payload part of a JWS compact serialization (no verification).
Result<std::string> JwsCompactPayload(const std::string& jws);

// Round-trip statistics over samples in seconds (nearest-rank percentiles).
struct RttStats {
  size_t count = 0;
  double min = 0, p50 = 0, p99 = 0, max = 0, mean = 0;
};
// REQUIRES: !samples.empty()
RttStats ComputeRttStats(std::vector<double> samples);
// The nearest-rank percentile q (0..100] of sorted samples.
double NearestRank(const std::vector<double>& sorted, double q);

}  // namespace resmeter
