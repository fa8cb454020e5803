// PeerServer: the network measurement responder behind `resmeter peer`.
//
// It listens on one TCP address, accepts control and data connections of the
// protocol in peer/net_protocol.h, serves up to max_sessions sessions at
// once (more are refused with an error frame), and co-signs each session's
// summary with its Signer. Every connection is bounded by the idle timeout
// and every session by the session time limit.
//
// Thread behaviour: Start() spawns an accept thread and one thread per
// connection (bounded); Stop() (or the destructor) closes the listener,
// cancels sessions and joins every thread. counters() is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.h"
#include "core/signer.h"
#include "peer/net_peer_session.h"
#include "peer/net_socket.h"

namespace resmeter {

class PeerServer {
 public:
  struct Counters {
    uint64_t sessions_signed = 0;     // sessions that ended with a co-signed summary
    uint64_t sessions_failed = 0;     // sessions that ended with an error
    uint64_t sessions_refused = 0;    // over max_sessions or bad parameters
    uint64_t connections_refused = 0; // over the connection limit or a bad first frame
  };
  using Log = std::function<void(const std::string&)>;

  // REQUIRES: signer != nullptr and outlives the server.
  PeerServer(PeerServerOptions options, const Signer* signer, Log log = {});
  ~PeerServer();
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  // Binds the listen address and starts accepting. IOError / InvalidArgument.
  Status Start();
  // The bound port (useful with port 0) and address; valid after Start().
  uint16_t port() const { return port_; }
  // Stops accepting, cancels sessions, joins all threads. Idempotent.
  void Stop();
  Counters counters() const;

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  // Accepts connections until stopped.
  void AcceptLoop();
  // Reads a connection's first frame and serves it as a session or a data stream.
  void HandleConnection(Socket socket);
  // Serves a session whose hello was read.
  void ServeSession(Socket socket, nlohmann::json hello);
  // Joins finished workers; returns how many are still running.
  size_t ReapWorkers();
  void Note(const std::string& line) const;

  PeerServerOptions options_;
  const Signer* signer_;
  Log log_;
  Socket listener_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  std::list<Worker> workers_;  // touched by the accept thread, then by Stop() after joining it

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<PeerSession>> sessions_;
  Counters counters_;
};

}  // namespace resmeter
