// The measuring side of the network protocol (peer/net_protocol.h): runs a
// throughput or latency session against one peer and returns the counts,
// the summary both sides signed, and the peer's signature and key.
//
// Every connect, read and write is bounded by io_timeout_seconds (a phase's
// wait for the peer's counts by omit + duration + io_timeout) and by the
// overall deadline; a down, refusing, garbling, stalling or early-closing
// peer yields an error naming what went wrong.
// Thread behaviour: the functions are reentrant; each call uses its own
// sockets and joins the threads it starts before returning.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/signer.h"
#include "peer/net_protocol.h"
#include "peer/net_streams.h"

namespace resmeter {

struct NetTargetOptions {
  std::string target;               // "host:port" of a resmeter peer
  double io_timeout_seconds = 5;    // bound of every single connect/read/write
  double deadline = 0;              // MonotonicNow() by which all must end; 0: none
  const std::atomic<bool>* cancel = nullptr;
  const Signer* signer = nullptr;   // this agent's key; null: no agent signature
  std::function<void(const std::string&)> progress;  // optional
};

struct ThroughputParams {
  int64_t streams = 4;
  double duration_seconds = 5;
  double omit_seconds = 1;
  int64_t buffer_bytes = 128 * 1024;  // bytes per write
  int64_t socket_buffer_bytes = 0;    // SO_SNDBUF/SO_RCVBUF; 0: kernel default (autotuning)
  std::vector<std::string> phases = {"upload", "download"};
  // The "params" object of hello and of the signed summary.
  nlohmann::json ToJson() const;
};

struct LatencyParams {
  int64_t count = 100;
  int64_t message_bytes = 64;
  double interval_seconds = 0.01;  // pause between messages, so the connection is idle
  nlohmann::json ToJson() const;
};

// What both sides signed, and how to check it.
struct SignedExchange {
  nlohmann::json summary;       // the canonical summary as JSON
  std::string canonical;        // its exact signed bytes
  std::string peer_jws;         // the peer's JWS over `canonical`
  nlohmann::json peer_jwk;      // the peer's public key
  std::string peer_thumbprint;
  std::string agent_jws;        // this agent's JWS over `canonical`; empty without a signer
  std::string local_address;    // control connection, as this side sees it
  std::string remote_address;
};

struct ThroughputOutcome {
  std::map<std::string, DirectionCounts> phases;  // "upload" (peer counted), "download" (we counted)
  uint64_t upload_sent_bytes = 0;  // what our upload sockets accepted in the whole phase (we counted)
  int64_t sndbuf_bytes = -1;  // effective socket buffers of our first data socket
  int64_t rcvbuf_bytes = -1;
  SignedExchange exchange;
};

struct LatencyOutcome {
  RttStats stats;
  SignedExchange exchange;
};

// How much shorter than the configured window a peer's upload window may be
// (its clock rate against ours), as a fraction of the configured window.
inline constexpr double kPeerWindowToleranceRatio = 0.01;

// Checks the counts a peer reported for our upload against what we know
// ourselves: every stream's bytes at most what that stream's socket
// accepted (`sent_bytes`), and a finite window no shorter than
// `configured_window_seconds` less the tolerance and no longer than the
// phase lasted on our clock (`phase_seconds`). VerifyFailed naming the
// numbers when the peer claims more than can have happened.
Status CheckPeerUploadCounts(const DirectionCounts& reported, const std::vector<uint64_t>& sent_bytes,
                             double configured_window_seconds, double phase_seconds);

// Runs a throughput session against options.target.
Result<ThroughputOutcome> RunThroughputSession(const NetTargetOptions& options, const ThroughputParams& params);
// Runs a latency session against options.target.
Result<LatencyOutcome> RunLatencySession(const NetTargetOptions& options, const LatencyParams& params);

}  // namespace resmeter
