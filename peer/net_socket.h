// TCP socket helpers for the network meters and the peer responder: an owning
// file descriptor, "host:port" parsing, connect/listen, and reads and writes
// that are bounded by a deadline, a cancel flag and (for reads) a size.
//
// Deadlines are CLOCK_MONOTONIC_RAW seconds (MonotonicNow()). Every blocking call
// waits in slices of at most kPollSliceSeconds so cancellation is noticed.
// Thread behaviour: free functions are thread-safe; a Socket is owned by one
// thread at a time (it can be moved between threads).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/result.h"

namespace resmeter {

// Longest single wait inside a bounded call, so cancel flags are polled.
inline constexpr double kPollSliceSeconds = 0.1;

// Seconds on CLOCK_MONOTONIC_RAW, the clock of DefaultEnv()->MonotonicSeconds().
double MonotonicNow();

// An owning socket file descriptor; closes on destruction. Move-only.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { Close(); }
  Socket(Socket&& o) noexcept : fd_(o.Release()) {}
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership and returns the descriptor.
  int Release() { int f = fd_; fd_ = -1; return f; }
  // Closes the descriptor (no-op when invalid).
  void Close();

 private:
  int fd_ = -1;
};

// A parsed "host:port" ("[v6]:port" for IPv6 literals). The host is a numeric
// address or a name resolved with getaddrinfo.
struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string ToString() const;
};
// Parses "host:port"; InvalidArgument naming the text when malformed.
Result<HostPort> ParseHostPort(const std::string& text);

// Connects to `target` before `deadline`; IOError with the target and the
// OS reason ("connection refused", "timed out after 2 s"). Sets TCP_NODELAY when asked.
Result<Socket> ConnectTcp(const HostPort& target, double deadline, const std::atomic<bool>* cancel,
                          bool nodelay = false);
// Binds and listens on `addr` (port 0 picks a free port); SO_REUSEADDR set.
Result<Socket> ListenTcp(const HostPort& addr, int backlog = 64);

// "ip:port" of the local / remote end of a connected socket ("?" on error).
std::string LocalAddress(int fd);
std::string RemoteAddress(int fd);
// The port a listening socket is bound to (0 on error).
uint16_t BoundPort(int fd);

// Waits until `fd` is readable (events=POLLIN) or writable (POLLOUT) before
// the deadline. DeadlineExceeded / Cancelled / IOError otherwise.
Status WaitFd(int fd, short events, double deadline, const std::atomic<bool>* cancel);
// Reads exactly `n` bytes. At EOF before `n`: IOError "closed by peer";
// `what` names the read in messages ("control frame header").
Status ReadFull(int fd, void* buf, size_t n, double deadline, const std::atomic<bool>* cancel,
                const std::string& what);
// Writes all `n` bytes (MSG_NOSIGNAL).
Status WriteAll(int fd, const void* buf, size_t n, double deadline, const std::atomic<bool>* cancel,
                const std::string& what);

// Sets SO_SNDBUF/SO_RCVBUF when `bytes` > 0, and a receive/send timeout that
// makes blocking recv()/send() return EAGAIN every `slice_seconds`.
Status ConfigureDataSocket(int fd, int64_t buffer_bytes, double slice_seconds);
// The kernel's effective SO_SNDBUF and SO_RCVBUF of a socket.
void SocketBufferSizes(int fd, int64_t* sndbuf, int64_t* rcvbuf);

}  // namespace resmeter
