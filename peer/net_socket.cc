#include "peer/net_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/strings.h"

namespace resmeter {
namespace {

// Formats seconds for messages: "2 s", "0.5 s".
std::string Secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

// "ip:port" of a sockaddr.
std::string FormatSockaddr(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
    std::string out = "[";
    out.append(host).append("]:").append(std::to_string(port));
    return out;
  }
  return "?";
}

// Resolves a HostPort to socket addresses (numeric first, then by name).
Result<addrinfo*> Resolve(const HostPort& hp, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* res = nullptr;
  std::string port = std::to_string(hp.port);
  int rc = ::getaddrinfo(hp.host.empty() ? nullptr : hp.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Status::IOError(hp.ToString() + ": cannot resolve: " + ::gai_strerror(rc));
  }
  return res;
}

}  // namespace

double MonotonicNow() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    Close();
    fd_ = o.Release();
  }
  return *this;
}

void Socket::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<HostPort> ParseHostPort(const std::string& text) {
  HostPort hp;
  std::string port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidArgument("'" + text + "': expected [ipv6]:port");
    }
    hp.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      return Status::InvalidArgument("'" + text + "': expected host:port");
    }
    hp.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto port = ParseUint64(port_text);
  if (hp.host.empty() || !port || *port > 65535) {
    return Status::InvalidArgument("'" + text + "': expected host:port with a port 0-65535");
  }
  hp.port = static_cast<uint16_t>(*port);
  return hp;
}

Result<Socket> ConnectTcp(const HostPort& target, double deadline, const std::atomic<bool>* cancel,
                          bool nodelay) {
  RESMETER_ASSIGN_OR_RETURN(addrinfo * res, Resolve(target, false));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(res, ::freeaddrinfo);
  Status last = Status::IOError(target.ToString() + ": no address");
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    Socket s(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
    if (!s.valid()) {
      last = Status::FromErrno(target.ToString() + ": socket", errno);
      continue;
    }
    if (nodelay) {
      int one = 1;
      ::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (::connect(s.fd(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = Status::IOError(std::string("connect: ") + std::strerror(errno));
      continue;
    }
    Status w = WaitFd(s.fd(), POLLOUT, deadline, cancel);
    if (!w.ok()) {
      last = w.WithContext("connect");
      continue;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      last = Status::IOError(std::string("connect: ") + std::strerror(err));
      continue;
    }
    int flags = ::fcntl(s.fd(), F_GETFL);
    ::fcntl(s.fd(), F_SETFL, flags & ~O_NONBLOCK);  // blocking from here; waits use poll
    return s;
  }
  return last;
}

Result<Socket> ListenTcp(const HostPort& addr, int backlog) {
  RESMETER_ASSIGN_OR_RETURN(addrinfo * res, Resolve(addr, true));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(res, ::freeaddrinfo);
  Status last = Status::IOError(addr.ToString() + ": no address");
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    Socket s(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!s.valid()) {
      last = Status::FromErrno(addr.ToString() + ": socket", errno);
      continue;
    }
    int one = 1;
    ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(s.fd(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last = Status::FromErrno(addr.ToString() + ": bind", errno);
      continue;
    }
    if (::listen(s.fd(), backlog) != 0) {
      last = Status::FromErrno(addr.ToString() + ": listen", errno);
      continue;
    }
    return s;
  }
  return last;
}

std::string LocalAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  return FormatSockaddr(ss);
}

std::string RemoteAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  return FormatSockaddr(ss);
}

uint16_t BoundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

Status WaitFd(int fd, short events, double deadline, const std::atomic<bool>* cancel) {
  const double start = MonotonicNow();
  for (;;) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) return Status::Cancelled("cancelled");
    double now = MonotonicNow();
    if (now >= deadline) return Status::DeadlineExceeded("timed out after " + Secs(std::round((now - start) * 10) / 10));
    double slice = std::min(kPollSliceSeconds, deadline - now);
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, std::max(1, static_cast<int>(std::ceil(slice * 1000))));
    if (rc < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("poll", errno);
    }
    if (rc > 0) return Status::Ok();  // readable, writable, or an error the next call reports
  }
}

Status ReadFull(int fd, void* buf, size_t n, double deadline, const std::atomic<bool>* cancel,
                const std::string& what) {
  auto* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < n) {
    Status w = WaitFd(fd, POLLIN, deadline, cancel);
    if (!w.ok()) return w.WithContext("reading " + what);
    ssize_t r = ::recv(fd, p + got, n - got, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return Status::IOError("reading " + what + ": " + std::strerror(errno));
    }
    if (r == 0) return Status::IOError("reading " + what + ": connection closed by peer");
    got += static_cast<size_t>(r);
  }
  return Status::Ok();
}

Status WriteAll(int fd, const void* buf, size_t n, double deadline, const std::atomic<bool>* cancel,
                const std::string& what) {
  const auto* p = static_cast<const char*>(buf);
  size_t sent = 0;
  while (sent < n) {
    Status w = WaitFd(fd, POLLOUT, deadline, cancel);
    if (!w.ok()) return w.WithContext("writing " + what);
    ssize_t r = ::send(fd, p + sent, n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return Status::IOError("writing " + what + ": " + std::strerror(errno));
    }
    sent += static_cast<size_t>(r);
  }
  return Status::Ok();
}

Status ConfigureDataSocket(int fd, int64_t buffer_bytes, double slice_seconds) {
  if (buffer_bytes > 0) {
    int v = static_cast<int>(std::min<int64_t>(buffer_bytes, 1 << 30));
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) != 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0) {
      return Status::FromErrno("setsockopt SO_SNDBUF/SO_RCVBUF", errno);
    }
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(slice_seconds);
  tv.tv_usec = static_cast<suseconds_t>((slice_seconds - static_cast<double>(tv.tv_sec)) * 1e6);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
    return Status::FromErrno("setsockopt SO_RCVTIMEO/SO_SNDTIMEO", errno);
  }
  return Status::Ok();
}

void SocketBufferSizes(int fd, int64_t* sndbuf, int64_t* rcvbuf) {
  int v = 0;
  socklen_t len = sizeof v;
  *sndbuf = ::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len) == 0 ? v : -1;
  len = sizeof v;
  *rcvbuf = ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0 ? v : -1;
}

}  // namespace resmeter
