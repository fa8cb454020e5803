// The chronyd command-socket client and its Unix datagram transport.
#include "timesource/chrony_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

namespace resmeter {
namespace {

// The directory part of a path ("." when there is none).
std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Maps an errno from connect/send/recv to the documented status classes.
Status SocketError(const std::string& path, const char* op, int err) {
  std::string detail = std::string(op) + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound("chronyd not reachable: no socket at " + path);
    case ECONNREFUSED:
    case ENOTCONN:
      return Status::NotFound("chronyd not reachable: nothing listens on " + path);
    case EACCES:
    case EPERM:
      return Status::PermissionDenied("access to chronyd refused: " + detail);
    case EAGAIN:
      return Status::DeadlineExceeded("chronyd busy: its socket queue is full (" + detail + ")");
    default:
      return Status::IOError("chronyd socket error: " + detail);
  }
}

class UnixChronyTransport final : public ChronyTransport {
 public:
  UnixChronyTransport(int fd, std::string server_path, std::string client_path)
      : fd_(fd), server_path_(std::move(server_path)), client_path_(std::move(client_path)) {}
  ~UnixChronyTransport() override {
    ::close(fd_);
    ::unlink(client_path_.c_str());
  }

  Status Send(std::string_view packet) override {
    for (;;) {
      ssize_t n = ::send(fd_, packet.data(), packet.size(), MSG_DONTWAIT);
      if (n >= 0) return Status::Ok();
      if (errno == EINTR) continue;
      return SocketError(server_path_, "send to", errno);
    }
  }

  Result<std::string> Receive(double timeout_seconds) override {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
    for (;;) {
      double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return Status::DeadlineExceeded("chronyd busy: no reply from " + server_path_);
      struct pollfd p = {fd_, POLLIN, 0};
      int rc = ::poll(&p, 1, static_cast<int>(left * 1000) + 1);
      if (rc < 0) {
        if (errno == EINTR) continue;
        return SocketError(server_path_, "poll", errno);
      }
      if (rc == 0) continue;  // re-checks the deadline
      char buf[1024];
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return SocketError(server_path_, "recv from", errno);
      }
      return std::string(buf, static_cast<size_t>(n));
    }
  }

  std::string Endpoint() const override { return server_path_; }

 private:
  int fd_;
  std::string server_path_;
  std::string client_path_;
};

// A process-unique suffix for reply socket names.
std::string UniqueSuffix() {
  static std::atomic<unsigned> counter{0};
  return std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
}

// Fills a sockaddr_un; InvalidArgument when the path does not fit.
Result<struct sockaddr_un> UnixAddress(const std::string& path) {
  struct sockaddr_un sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sa.sun_path) {
    return Status::InvalidArgument("chrony socket path '" + path + "' is empty or longer than " +
                                   std::to_string(sizeof sa.sun_path - 1) + " bytes");
  }
  std::memcpy(sa.sun_path, path.data(), path.size());
  return sa;
}

}  // namespace

Result<std::unique_ptr<ChronyTransport>> OpenUnixChronyTransport(const std::string& socket_path,
                                                                 const std::string& client_dir) {
  RESMETER_ASSIGN_OR_RETURN(struct sockaddr_un server, UnixAddress(socket_path));
  struct stat st;
  if (::stat(socket_path.c_str(), &st) != 0) return SocketError(socket_path, "stat", errno);
  if (!S_ISSOCK(st.st_mode))
    return Status::NotFound("chronyd not reachable: " + socket_path + " is not a socket");

  std::string dir = client_dir.empty() ? DirName(socket_path) : client_dir;
  std::string client_path = dir + "/resmeter." + UniqueSuffix() + ".sock";
  RESMETER_ASSIGN_OR_RETURN(struct sockaddr_un client, UnixAddress(client_path));

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::FromErrno("socket(AF_UNIX)", errno);
  ::unlink(client_path.c_str());
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&client), sizeof client) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EACCES || e == EPERM || e == EROFS) {
      return Status::PermissionDenied("access to chronyd refused: cannot create reply socket " + client_path +
                                      ": " + std::strerror(e));
    }
    return Status::IOError("cannot bind reply socket " + client_path + ": " + std::strerror(e));
  }
  // chronyd may run as an unprivileged user and must be able to answer.
  ::chmod(client_path.c_str(), 0666);
  if (::connect(fd, reinterpret_cast<struct sockaddr*>(&server), sizeof server) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(client_path.c_str());
    return SocketError(socket_path, "connect to", e);
  }
  return std::unique_ptr<ChronyTransport>(new UnixChronyTransport(fd, socket_path, client_path));
}

ChronyClient::ChronyClient(std::unique_ptr<ChronyTransport> transport, ChronyClientOptions options,
                           std::function<uint32_t()> next_sequence)
    : transport_(std::move(transport)), options_(options), next_sequence_(std::move(next_sequence)) {
  if (!next_sequence_) {
    auto rng = std::make_shared<std::mt19937>(std::random_device{}());
    next_sequence_ = [rng] { return static_cast<uint32_t>((*rng)()); };
  }
  if (options_.attempts < 1) options_.attempts = 1;
  budget_end_ =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(options_.total_budget_seconds));
}

Result<std::string> ChronyClient::Call(uint16_t command, uint16_t reply,
                                       const std::function<std::string(uint32_t, uint16_t)>& encode) {
  const uint32_t sequence = next_sequence_();
  for (int attempt = 0; attempt < options_.attempts; ++attempt) {
    if (std::chrono::steady_clock::now() >= budget_end_) {
      return Status::DeadlineExceeded("chronyd busy: " + transport_->Endpoint() + " used up the " +
                                      std::to_string(options_.total_budget_seconds) +
                                      " s budget of this query");
    }
    RESMETER_RETURN_IF_ERROR(transport_->Send(encode(sequence, static_cast<uint16_t>(attempt))));
    ++requests_sent_;
    auto deadline = std::min(budget_end_, std::chrono::steady_clock::now() +
                                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                  std::chrono::duration<double>(options_.timeout_seconds)));
    for (;;) {
      double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) break;
      Result<std::string> packet = transport_->Receive(left);
      if (!packet.ok()) {
        if (packet.status().code() == Status::Code::kDeadlineExceeded) break;
        return packet.status();
      }
      Result<chrony::ReplyHeader> header = chrony::DecodeReplyHeader(*packet);
      // A reply to an earlier request (or attempt) of ours: not this one.
      if (header.ok() && header->sequence != sequence) continue;
      RESMETER_ASSIGN_OR_RETURN(std::string_view data, chrony::CheckReply(*packet, command, reply));
      return std::string(data);
    }
  }
  return Status::DeadlineExceeded("chronyd busy: no reply from " + transport_->Endpoint() + " to command " +
                                  std::to_string(command) + " after " + std::to_string(options_.attempts) +
                                  " attempts of " + std::to_string(options_.timeout_seconds) + " s");
}

Result<chrony::Tracking> ChronyClient::Tracking() {
  RESMETER_ASSIGN_OR_RETURN(std::string data,
                            Call(chrony::kReqTracking, chrony::kRpyTracking, chrony::EncodeTrackingRequest));
  return chrony::DecodeTracking(data);
}

Result<uint32_t> ChronyClient::NumSources() {
  RESMETER_ASSIGN_OR_RETURN(std::string data,
                            Call(chrony::kReqNSources, chrony::kRpyNSources, chrony::EncodeNSourcesRequest));
  return chrony::DecodeNSources(data);
}

Result<chrony::SourceData> ChronyClient::Source(int32_t index) {
  RESMETER_ASSIGN_OR_RETURN(
      std::string data, Call(chrony::kReqSourceData, chrony::kRpySourceData, [index](uint32_t s, uint16_t a) {
        return chrony::EncodeSourceDataRequest(index, s, a);
      }));
  return chrony::DecodeSourceData(data);
}

Result<chrony::NtpData> ChronyClient::NtpData(const chrony::IpAddr& ip) {
  RESMETER_ASSIGN_OR_RETURN(std::string data,
                            Call(chrony::kReqNtpData, chrony::kRpyNtpData, [&ip](uint32_t s, uint16_t a) {
                              return chrony::EncodeNtpDataRequest(ip, s, a);
                            }));
  return chrony::DecodeNtpData(data);
}

Result<chrony::AuthData> ChronyClient::AuthData(const chrony::IpAddr& ip) {
  RESMETER_ASSIGN_OR_RETURN(std::string data,
                            Call(chrony::kReqAuthData, chrony::kRpyAuthData, [&ip](uint32_t s, uint16_t a) {
                              return chrony::EncodeAuthDataRequest(ip, s, a);
                            }));
  return chrony::DecodeAuthData(data);
}

Result<std::string> ChronyClient::SourceName(const chrony::IpAddr& ip) {
  RESMETER_ASSIGN_OR_RETURN(std::string data, Call(chrony::kReqNtpSourceName, chrony::kRpyNtpSourceName,
                                                   [&ip](uint32_t s, uint16_t a) {
                                                     return chrony::EncodeNtpSourceNameRequest(ip, s, a);
                                                   }));
  return chrony::DecodeNtpSourceName(data);
}

}  // namespace resmeter
