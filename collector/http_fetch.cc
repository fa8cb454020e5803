#include "collector/http_fetch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
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

// One connection to an agent, plain or TLS, every wait bounded by `deadline`.
class AgentConnection {
 public:
  AgentConnection(UniqueFd fd, double deadline) : fd_(std::move(fd)), deadline_(deadline) {}
  ~AgentConnection() {
    if (ssl_) SSL_free(ssl_);  // no close_notify: Connection: close, and the agent may be gone
  }

  // The TLS handshake: the server certificate must chain to the context's CAs
  // and name `host` (an IP address literal is matched against IP SANs).
  Status StartTls(const AgentTlsContext& tls, const std::string& host, const std::string& where) {
    ssl_ = SSL_new(tls.ctx());
    if (!ssl_ || SSL_set_fd(ssl_, fd_.get()) != 1) return Status::IOError("cannot set up TLS: " + SslText());
    in6_addr ip6;
    in_addr ip4;
    const bool is_ip =
        ::inet_pton(AF_INET, host.c_str(), &ip4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &ip6) == 1;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int named = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                            : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (named != 1) return Status::InvalidArgument("cannot verify TLS certificates for host '" + host + "'");
    if (!is_ip) SSL_set_tlsext_host_name(ssl_, host.c_str());  // SNI: names only (RFC 6066)
    for (;;) {
      ERR_clear_error();
      const int rc = SSL_connect(ssl_);
      if (rc == 1) return Status::Ok();
      const int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        RESMETER_RETURN_IF_ERROR(WaitFd(fd_.get(), err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_,
                                        "in the TLS handshake"));
        continue;
      }
      const long verify = SSL_get_verify_result(ssl_);
      std::string why;
      if (verify != X509_V_OK) {
        why = std::string("server certificate rejected: ") + X509_verify_cert_error_string(verify);
      } else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        why = "the agent closed the connection (does it speak TLS?)";
      } else {
        why = SslText();
      }
      return Status::VerifyFailed("TLS handshake with " + where + " failed: " + why);
    }
  }

  Status SendAll(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      if (ssl_) {
        ERR_clear_error();
        const int n = SSL_write(ssl_, data.data() + sent,
                                static_cast<int>(std::min<size_t>(data.size() - sent, 1 << 20)));
        if (n > 0) {
          sent += static_cast<size_t>(n);
          continue;
        }
        const int err = SSL_get_error(ssl_, n);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return SendFailed();
        RESMETER_RETURN_IF_ERROR(WaitFd(fd_.get(), err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_,
                                        "sending the request"));
        continue;
      }
      const ssize_t n = ::send(fd_.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        RESMETER_RETURN_IF_ERROR(WaitFd(fd_.get(), POLLOUT, deadline_, "sending the request"));
      } else {
        return Status::IOError(std::string("send: ") + std::strerror(errno));
      }
    }
    return Status::Ok();
  }

  // Up to `size` bytes into `buf`; 0 at the end of the stream.
  Result<size_t> Receive(char* buf, size_t size) {
    for (;;) {
      if (ssl_) {
        ERR_clear_error();
        const int n = SSL_read(ssl_, buf, static_cast<int>(size));
        if (n > 0) return static_cast<size_t>(n);
        const int err = SSL_get_error(ssl_, n);
        if (err == SSL_ERROR_ZERO_RETURN) return size_t{0};
        // An alert after the handshake: with TLS 1.3 the agent judges our
        // client certificate only now ("certificate required").
        if (err == SSL_ERROR_SSL)
          return Status::VerifyFailed("TLS: the agent ended the session: " + SslText());
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
          return Status::IOError("TLS receive: " + SslText());
        RESMETER_RETURN_IF_ERROR(WaitFd(fd_.get(), err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_,
                                        "waiting for the response"));
        continue;
      }
      const ssize_t n = ::recv(fd_.get(), buf, size, 0);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EAGAIN && errno != EINTR)
        return Status::IOError(std::string("recv: ") + std::strerror(errno));
      RESMETER_RETURN_IF_ERROR(WaitFd(fd_.get(), POLLIN, deadline_, "waiting for the response"));
    }
  }

 private:
  // The request could not be written. Right after a TLS 1.3 handshake that
  // is mostly an agent that refused our client certificate and closed: its
  // alert may be waiting to be read, and names the reason.
  Status SendFailed() {
    const std::string send_error = SslText();
    char byte;
    ERR_clear_error();
    const int n = SSL_read(ssl_, &byte, 1);
    if (n <= 0 && SSL_get_error(ssl_, n) == SSL_ERROR_SSL)
      return Status::VerifyFailed("TLS: the agent ended the session: " + SslText());
    ERR_clear_error();
    return Status::IOError("TLS send: " + send_error);
  }

  // The last queued OpenSSL error as text, or the socket's errno.
  static std::string SslText() {
    const unsigned long e = ERR_peek_last_error();
    std::string out;
    if (e != 0) {
      const char* reason = ERR_reason_error_string(e);
      out = reason ? reason : "error " + std::to_string(e);
    } else {
      out = errno != 0 ? std::strerror(errno) : "connection closed";
    }
    ERR_clear_error();
    return out;
  }

  UniqueFd fd_;
  SSL* ssl_ = nullptr;
  double deadline_;
};

// "user:password" in standard base64 (RFC 7617).
std::string BasicAuthorization(const std::string& user, const std::string& password) {
  const std::string plain = user + ":" + password;
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return "Basic " + out;
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  HttpUrl out;
  out.tls = StartsWith(url, "https://");
  if (!out.tls && !StartsWith(url, "http://"))
    return Status::InvalidArgument("agent URL '" + url.substr(0, 200) +
                                   "' must start with http:// or https://");
  if (out.tls) out.port = 443;
  std::string rest = url.substr(out.tls ? 8 : 7);
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
  if (url.tls && !options.tls)
    return Status::InvalidArgument("https:// agent URL but no TLS client context (collector.agent_ca_file)");
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
  const std::string where = url.host + ":" + port;
  AgentConnection conn(std::move(fd), deadline);
  if (url.tls) RESMETER_RETURN_IF_ERROR(conn.StartTls(*options.tls, url.host, where));
  const bool ipv6 = url.host.find(':') != std::string::npos;
  std::string request = method + " " + url.prefix + path +
                        " HTTP/1.1\r\nHost: " + (ipv6 ? "[" + url.host + "]" : url.host) + ":" + port +
                        "\r\nConnection: close\r\nUser-Agent: resmeter-collector\r\nAccept: */*\r\n";
  if (url.tls && !options.basic_auth_user.empty())
    request +=
        "Authorization: " + BasicAuthorization(options.basic_auth_user, options.basic_auth_password) + "\r\n";
  if (!body.empty() || method == "POST")
    request +=
        "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  RESMETER_RETURN_IF_ERROR(conn.SendAll(request));
  std::string raw;
  char buf[65536];
  size_t header_end = std::string::npos;
  HttpResponseHead head;
  for (;;) {
    if (header_end != std::string::npos && head.content_length &&
        raw.size() >= header_end + 4 + *head.content_length)
      break;
    RESMETER_ASSIGN_OR_RETURN(const size_t n, conn.Receive(buf, sizeof buf));
    if (n == 0) break;
    raw.append(buf, n);
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
