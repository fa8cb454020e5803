#include "collector/http_fetch.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "core/strings.h"
#include "core/unique_fd.h"

namespace resmeter {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// At most 40 bytes of what the agent sent, control characters as '?': one line in a message.
std::string Printable(std::string_view bytes) {
  std::string out(bytes.substr(0, 40));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return out;
}

// Waits until `fd` is ready for `events` or `until` passes.
Status WaitFd(int fd, short events, double until, const char* what) {
  for (;;) {
    const double left = until - Now();
    if (left <= 0) return Status::DeadlineExceeded(std::string("timed out ") + what);
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::min(left * 1000 + 1, 60000.0)));
    if (rc > 0) return Status::Ok();
    if (rc < 0 && errno != EINTR) return Status::IOError(std::string("poll: ") + std::strerror(errno));
  }
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  if (!StartsWith(url, "http://"))
    return Status::InvalidArgument("agent URL '" + url.substr(0, 200) + "' must start with http://");
  std::string rest = url.substr(7);
  HttpUrl out;
  const size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) out.prefix = rest.substr(slash);
  while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
  if (hostport.empty()) return Status::InvalidArgument("agent URL '" + url.substr(0, 200) + "' has no host");
  size_t colon = hostport.rfind(':');
  if (!hostport.empty() && hostport[0] == '[') {  // [v6]:port
    const size_t close = hostport.find(']');
    if (close == std::string::npos)
      return Status::InvalidArgument("agent URL '" + url.substr(0, 200) + "': bad IPv6 host");
    out.host = hostport.substr(1, close - 1);
    colon = hostport.find(':', close);
  } else {
    out.host = hostport.substr(0, colon);
  }
  if (colon != std::string::npos) {
    auto port = ParseInt64(hostport.substr(colon + 1));
    if (!port || *port <= 0 || *port > 65535)
      return Status::InvalidArgument("agent URL '" + url.substr(0, 200) + "': bad port");
    out.port = static_cast<int>(*port);
  }
  return out;
}

Result<HttpFetchResponse> HttpFetch(const std::string& base_url, const std::string& method,
                                    const std::string& path, const std::string& body,
                                    const std::string& content_type, const HttpFetchOptions& options) {
  RESMETER_ASSIGN_OR_RETURN(HttpUrl url, ParseHttpUrl(base_url));
  const double start = Now();
  const double deadline = start + options.deadline_seconds;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(url.port);
  if (int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return Status::IOError("resolve " + url.host + ": " + gai_strerror(rc));
  UniqueFd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    ::freeaddrinfo(res);
    return Status::IOError(std::string("socket: ") + std::strerror(errno));
  }
  const int crc = ::connect(fd.get(), res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (crc != 0 && errno != EINPROGRESS)
    return Status::IOError("connect " + url.host + ":" + port + ": " + std::strerror(errno));
  if (crc != 0) {
    RESMETER_RETURN_IF_ERROR(
        WaitFd(fd.get(), POLLOUT, std::min(deadline, start + options.connect_timeout_seconds), "connecting"));
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Status::IOError("connect " + url.host + ":" + port + ": " + std::strerror(err));
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string request = method + " " + url.prefix + path + " HTTP/1.1\r\nHost: " + url.host + ":" + port +
                        "\r\nConnection: close\r\nUser-Agent: resmeter-collector\r\nAccept: */*\r\n";
  if (!body.empty() || method == "POST")
    request +=
        "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      RESMETER_RETURN_IF_ERROR(WaitFd(fd.get(), POLLOUT, deadline, "sending the request"));
    } else {
      return Status::IOError(std::string("send: ") + std::strerror(errno));
    }
  }
  std::string raw;
  char buf[65536];
  size_t header_end = std::string::npos;
  HttpResponseHead head;
  for (;;) {
    if (header_end != std::string::npos && head.content_length &&
        raw.size() >= header_end + 4 + *head.content_length)
      break;
    RESMETER_RETURN_IF_ERROR(WaitFd(fd.get(), POLLIN, deadline, "waiting for the response"));
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return Status::IOError(std::string("recv: ") + std::strerror(errno));
    }
    raw.append(buf, static_cast<size_t>(n));
    if (raw.size() > options.max_response_bytes)
      return Status::Corruption("response larger than " + std::to_string(options.max_response_bytes) +
                                " bytes");
    if (header_end == std::string::npos) {
      header_end = raw.find("\r\n\r\n");
      if (header_end == std::string::npos && raw.size() > 65536)
        return Status::Corruption("response headers larger than 64 KiB");
      if (header_end != std::string::npos) {
        RESMETER_ASSIGN_OR_RETURN(head, ParseHttpResponseHead(std::string_view(raw).substr(0, header_end),
                                                              options.max_response_bytes));
      }
    }
  }
  if (header_end == std::string::npos)
    return Status::IOError("connection closed before the response headers ended");
  HttpFetchResponse out;
  out.elapsed_seconds = Now() - start;
  out.status = head.status;
  out.content_type = head.content_type;
  out.body = raw.substr(header_end + 4);
  if (head.content_length) {
    if (out.body.size() < *head.content_length)
      return Status::IOError("connection closed before the body ended");
    out.body.resize(*head.content_length);
  }
  return out;
}

Result<HttpResponseHead> ParseHttpResponseHead(std::string_view head, size_t max_body_bytes) {
  HttpResponseHead out;
  const size_t eol = head.find("\r\n");
  const std::string status_line(head.substr(0, eol));
  if (!StartsWith(status_line, "HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ')
    return Status::IOError("not an HTTP response: '" + Printable(status_line) + "'");
  auto code = ParseInt64(status_line.substr(9, 3));
  if (!code || *code < 100 || *code > 599)
    return Status::IOError("malformed status line '" + Printable(status_line) + "'");
  out.status = static_cast<int>(*code);
  for (auto line : Split(head, '\n')) {
    const std::string l = Lower(std::string(line));
    if (StartsWith(l, "transfer-encoding:") && l.find("chunked") != std::string::npos)
      return Status::IOError("chunked responses are not accepted from agents");
    if (StartsWith(l, "content-type:")) {
      const std::string v(Trim(l.substr(13)));
      out.content_type = std::string(Trim(v.substr(0, v.find(';'))));
    }
    if (StartsWith(l, "content-length:")) {
      auto v = ParseUint64(std::string(Trim(l.substr(15))));
      if (!v) return Status::Corruption("malformed Content-Length");
      if (*v > max_body_bytes)
        return Status::Corruption("response announces " + std::to_string(*v) + " bytes, over the limit of " +
                                  std::to_string(max_body_bytes));
      out.content_length = static_cast<size_t>(*v);
    }
  }
  return out;
}

}  // namespace resmeter
