// PeerSession: the responder's side of one measurement session (see the
// protocol in peer/net_protocol.h): it checks the client's parameters
// against the server's limits, serves the phases, counts what it receives,
// and co-signs the summary only when it matches what it saw itself.
//
// Thread behaviour: Run() executes on the control connection's thread;
// Attach() is called from other connection threads and hands a data socket
// over under the session's mutex. Every wait is bounded by the idle timeout,
// the session's total time limit and the server's stop flag.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/signer.h"
#include "peer/net_socket.h"
#include "peer/net_streams.h"

namespace resmeter {

// Limits and timeouts of the responder (resmeter peer).
struct PeerServerOptions {
  std::string listen = "0.0.0.0:5301";
  int max_sessions = 4;                    // sessions served at once; more are refused
  double idle_timeout_seconds = 10;        // longest wait for a frame or a data connection
  double session_timeout_seconds = 120;    // longest a whole session may last
  int max_streams = 64;
  double max_phase_seconds = 60;           // omit + duration of one phase
  int64_t max_buffer_bytes = 4 << 20;      // write size and socket buffer limit
  int64_t max_latency_count = 100000;
};

class PeerSession {
 public:
  // `hello` is the client's first frame, already parsed; `stop` is the
  // server's stop flag; `signer` must outlive the session.
  PeerSession(Socket control, nlohmann::json hello, const PeerServerOptions& options, const Signer* signer,
              const std::atomic<bool>* stop);
  PeerSession(const PeerSession&) = delete;
  PeerSession& operator=(const PeerSession&) = delete;

  // Validates the hello and prepares the session id; InvalidArgument (also
  // sent to the client as an error frame) when parameters are out of range.
  Status Prepare();
  // Serves the session to its end. OK when the summary was co-signed.
  Status Run();
  // Hands over a data connection; false when the phase or stream is not
  // expected (the caller then closes it).
  bool Attach(const std::string& phase, int64_t stream, Socket socket);

  const std::string& id() const { return session_id_; }

 private:
  // Waits until all data connections of `phase` arrived.
  Status WaitForStreams(const std::string& phase, size_t want, double deadline);
  Status RunUpload();
  Status RunDownload();
  Status RunLatency();
  Status SignSummary(const nlohmann::json& msg);
  // Now + idle timeout, capped by the session's end.
  double IdleDeadline() const;

  Socket control_;
  nlohmann::json hello_;
  PeerServerOptions options_;
  const Signer* signer_;
  const std::atomic<bool>* stop_;
  double session_deadline_ = 0;

  std::string test_;
  nlohmann::json params_;
  std::vector<std::string> phases_;
  size_t streams_ = 1;
  std::string client_nonce_, server_nonce_, session_id_, client_address_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<Socket>> data_;  // phase -> sockets by stream (guarded until closed)
  std::set<std::string> closed_;                     // phases that take no more data connections
  std::map<std::string, nlohmann::json> results_;    // phase -> what this side saw (session thread only)
};

}  // namespace resmeter
