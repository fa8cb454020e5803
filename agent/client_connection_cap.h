// ClientConnectionCap: at most N open connections per remote address on the
// agent's HTTP port, so one client (slowloris: many half-sent requests)
// cannot occupy every worker and starve the others.
//
// civetweb accepts on its own thread and queues sockets for the workers
// without a hook that could refuse one, so the cap works from outside: it
// lists the process's sockets (/proc/self/fd) that were accepted on the
// listen port, groups them by peer address, and shuts down (shutdown(2), so
// civetweb's next read sees EOF and closes it at once) the newest beyond N
// for each address. "Newest" is by the order the cap first saw each socket
// (its inode). Enforce runs when a worker picks up a new connection, so an
// over-cap burst is cleared before the workers would wait on it.
//
// Thread-safe (one mutex around a scan).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace resmeter {

class ClientConnectionCap {
 public:
  // REQUIRES: listen_port > 0, max_per_client >= 1.
  ClientConnectionCap(int listen_port, size_t max_per_client)
      : listen_port_(listen_port), max_per_client_(max_per_client) {}

  // Shuts down the connections beyond the cap; returns how many.
  size_t Enforce();
  // Shuts down the accepted connection from remote_addr:remote_port (to end
  // it at once after a final response, when civetweb would otherwise wait to
  // drain an unread body). False when no such socket is open.
  bool ShutdownPeer(const std::string& remote_addr, int remote_port);

 private:
  const int listen_port_;
  const size_t max_per_client_;
  std::mutex mu_;
  uint64_t next_seq_ = 0;
  std::unordered_map<ino_t, uint64_t> first_seen_;  // socket inode -> order first seen
  std::unordered_set<ino_t> shut_;                  // shut down, not yet closed by civetweb
  std::unordered_map<ino_t, std::string> peer_of_;  // socket inode -> peer address ("" : not ours)
};

}  // namespace resmeter
