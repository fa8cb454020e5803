// ChronyClient: asks chronyd for its tracking state, sources, per-source NTP
// data and authentication data over its command socket, the way chronyc does
// (see chrony_protocol.h for the packets).
//
// Transport: a Unix datagram socket. The client binds its own socket (chronyd
// answers to that address) in a directory next to chronyd's socket, makes it
// mode 0666 so a chronyd that dropped root privileges can answer, connects to
// chronyd's socket and removes its socket file when destroyed.
//
// Failure statuses are chosen so callers can tell the cases apart, and every
// message starts with a fixed phrase:
//   NotFound          "chronyd not reachable: ..." (no socket, nobody listening)
//   PermissionDenied  "access to chronyd refused: ..." (socket permissions, STT_UNAUTH)
//   DeadlineExceeded  "chronyd busy: ..." (no answer after every attempt)
//   Corruption / NotSupported / IOError  a malformed, foreign or refused reply
// Each request is sent up to `attempts` times, waiting `timeout_seconds` for
// each; replies with a foreign sequence number (late answers to earlier
// attempts) are dropped. No request blocks longer than attempts * timeout,
// and all requests of one client together stop after total_budget_seconds.
//
// Thread-compatible: one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "timesource/chrony_protocol.h"

namespace resmeter {

// One exchange of datagrams with chronyd; tests substitute recorded replies.
class ChronyTransport {
 public:
  virtual ~ChronyTransport() = default;
  // Sends one request packet. NotFound when chronyd went away.
  virtual Status Send(std::string_view packet) = 0;
  // Waits up to `timeout_seconds` for one datagram; DeadlineExceeded on timeout.
  virtual Result<std::string> Receive(double timeout_seconds) = 0;
  // Where the transport talks to, for messages ("/run/chrony/chronyd.sock").
  virtual std::string Endpoint() const = 0;
};

// Opens a Unix datagram transport to chronyd's socket. `client_dir` is where
// the reply socket is created (empty: the directory of `socket_path`).
Result<std::unique_ptr<ChronyTransport>> OpenUnixChronyTransport(const std::string& socket_path,
                                                                 const std::string& client_dir = "");

struct ChronyClientOptions {
  double timeout_seconds = 0.5;     // wait per attempt
  int attempts = 3;                 // sends per request (the first plus retries)
  double total_budget_seconds = 5;  // all requests of this client together
};

class ChronyClient {
 public:
  // `next_sequence` yields request sequence numbers (random by default).
  ChronyClient(std::unique_ptr<ChronyTransport> transport, ChronyClientOptions options,
               std::function<uint32_t()> next_sequence = {});
  ChronyClient(const ChronyClient&) = delete;
  ChronyClient& operator=(const ChronyClient&) = delete;

  // REQ_TRACKING: the system clock's synchronisation state.
  Result<chrony::Tracking> Tracking();
  // REQ_N_SOURCES: how many sources chronyd has.
  Result<uint32_t> NumSources();
  // REQ_SOURCE_DATA: one source by index (0 <= index < NumSources()).
  Result<chrony::SourceData> Source(int32_t index);
  // REQ_NTP_DATA: NTP details of a source by address; NotFound for refclocks.
  Result<chrony::NtpData> NtpData(const chrony::IpAddr& ip);
  // REQ_AUTH_DATA: authentication (NTS) state of a source by address.
  Result<chrony::AuthData> AuthData(const chrony::IpAddr& ip);
  // REQ_NTP_SOURCE_NAME: the name a source was configured with (an NTS
  // source's NTS-KE server name).
  Result<std::string> SourceName(const chrony::IpAddr& ip);

  // Requests sent so far, attempts included (for tests and conditions).
  int requests_sent() const { return requests_sent_; }

 private:
  // Sends `encode(sequence, attempt)` with retries; returns the reply data.
  Result<std::string> Call(uint16_t command, uint16_t reply,
                           const std::function<std::string(uint32_t, uint16_t)>& encode);

  std::unique_ptr<ChronyTransport> transport_;
  ChronyClientOptions options_;
  std::function<uint32_t()> next_sequence_;
  int requests_sent_ = 0;
  std::chrono::steady_clock::time_point budget_end_;
};

}  // namespace resmeter
