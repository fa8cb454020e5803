#include "timesource/nts_ke_probe.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/strings.h"

namespace resmeter {
namespace {

using Clock = std::chrono::steady_clock;

// The ALPN protocol list of an NTS-KE client: one entry, "ntske/1".
constexpr unsigned char kNtsKeAlpn[] = {7, 'n', 't', 's', 'k', 'e', '/', '1'};

int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// The oldest queued OpenSSL error as text, then clears the queue.
std::string SslError(const char* fallback) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return fallback;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct Address {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

std::vector<Address> Collect(addrinfo* res) {
  std::vector<Address> out;
  for (addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Address x;
    std::memcpy(&x.addr, a->ai_addr, a->ai_addrlen);
    x.len = a->ai_addrlen;
    out.push_back(x);
  }
  return out;
}

// Resolves `host`: numeric addresses at once, names on a thread of their own
// that is abandoned at the deadline (getaddrinfo cannot be interrupted).
Result<std::vector<Address>> Resolve(const std::string& host, int port, Clock::time_point deadline) {
  const std::string service = std::to_string(port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &res) == 0) {
    auto out = Collect(res);
    freeaddrinfo(res);
    return out;
  }
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    int rc = 0;
    std::vector<Address> addrs;
  };
  auto shared = std::make_shared<Shared>();
  std::thread([shared, host, service] {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    std::vector<Address> addrs;
    if (rc == 0) {
      addrs = Collect(res);
      freeaddrinfo(res);
    }
    std::lock_guard<std::mutex> lock(shared->mu);
    shared->done = true;
    shared->rc = rc;
    shared->addrs = std::move(addrs);
    shared->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(shared->mu);
  if (!shared->cv.wait_until(lock, deadline, [&] { return shared->done; })) {
    return Status::DeadlineExceeded("resolving " + host + " took longer than the timeout");
  }
  if (shared->rc != 0) return Status::NotFound("cannot resolve " + host + ": " + gai_strerror(shared->rc));
  return std::move(shared->addrs);
}

// A connected non-blocking TCP socket to the first address that accepts.
Result<int> Connect(const std::vector<Address>& addrs, const std::string& where, Clock::time_point deadline) {
  std::string last = "no address";
  for (const Address& a : addrs) {
    const int fd = ::socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last = std::strerror(errno);
      continue;
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) == 0) return fd;
    if (errno != EINPROGRESS) {
      last = std::strerror(errno);
      ::close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    const int n = ::poll(&p, 1, RemainingMs(deadline));
    if (n == 0) {
      ::close(fd);
      return Status::DeadlineExceeded("connecting to " + where + " took longer than the timeout");
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (n < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      last = std::strerror(n < 0 ? errno : err);
      ::close(fd);
      continue;
    }
    return fd;
  }
  return Status::IOError("cannot connect to " + where + ": " + last);
}

std::string NameText(const X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio) return "";
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : "";
}

std::string TimeText(const ASN1_TIME* t) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || !t) return "";
  ASN1_TIME_print(bio.get(), t);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : "";
}

// A write to a socket the server closed raises SIGPIPE, which would end the
// agent: blocked on this thread while the probe runs, and one raised
// meanwhile is discarded (SIGPIPE from a write goes to the writing thread).
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlock() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      const timespec zero{0, 0};
      sigtimedwait(&pipe_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

Result<NtsKeCertificate> ProbeNtsKeCertificate(const std::string& server_name,
                                               const NtsKeProbeOptions& options) {
  if (server_name.empty() || server_name.size() > 255 || server_name.find('\0') != std::string::npos)
    return Status::InvalidArgument("NTS-KE server name is empty or too long");
  if (options.port < 1 || options.port > 65535)
    return Status::InvalidArgument("NTS-KE port " + std::to_string(options.port) + " is out of range");
  const auto deadline =
      Clock::now() +
      std::chrono::milliseconds(static_cast<long>(std::max(0.001, options.timeout_seconds) * 1000));
  const std::string where = server_name + ":" + std::to_string(options.port);

  const SigpipeBlock no_sigpipe;
  RESMETER_ASSIGN_OR_RETURN(std::vector<Address> addrs, Resolve(server_name, options.port, deadline));
  RESMETER_ASSIGN_OR_RETURN(int fd, Connect(addrs, where, deadline));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};

  ERR_clear_error();
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return Status::IOError("TLS: " + SslError("cannot create a context"));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);  // RFC 8915 section 3
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_file(ctx.get(), options.ca_file.c_str()) != 1)
      return Status::InvalidArgument("time.nts_ca_file " + options.ca_file + ": " + SslError("cannot load"));
  } else {
    SSL_CTX_set_default_verify_paths(ctx.get());
  }
  // Verify, but finish the handshake either way: an unverified certificate is
  // still recorded (with verified false and the reason).
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl) return Status::IOError("TLS: " + SslError("cannot create a connection"));
  SSL_set_alpn_protos(ssl.get(), kNtsKeAlpn, sizeof kNtsKeAlpn);
  if (IsIpLiteral(server_name)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), server_name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl.get(), server_name.c_str());
    SSL_set1_host(ssl.get(), server_name.c_str());
  }
  SSL_set_fd(ssl.get(), fd);

  for (;;) {
    const int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    const int err = SSL_get_error(ssl.get(), rc);
    short events = 0;
    if (err == SSL_ERROR_WANT_READ) {
      events = POLLIN;
    } else if (err == SSL_ERROR_WANT_WRITE) {
      events = POLLOUT;
    } else {
      const std::string why = err == SSL_ERROR_SSL ? SslError("protocol error")
                              : err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN
                                  ? std::string("the server closed the connection")
                                  : "error " + std::to_string(err);
      ERR_clear_error();
      return Status::IOError("TLS 1.3 handshake with " + where + " failed: " + why);
    }
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, RemainingMs(deadline));
    if (n <= 0) {
      return Status::DeadlineExceeded("TLS handshake with " + where + " took longer than " +
                                      std::to_string(options.timeout_seconds) + " s");
    }
  }

  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl.get(), &alpn, &alpn_len);
  if (alpn_len != kNtsKeAlpn[0] || std::memcmp(alpn, kNtsKeAlpn + 1, alpn_len) != 0) {
    SSL_shutdown(ssl.get());
    return Status::VerifyFailed(
        where + " did not select ALPN ntske/1" +
        (alpn_len ? " (selected '" + std::string(reinterpret_cast<const char*>(alpn), alpn_len) + "')"
                  : std::string(" (no ALPN)")) +
        ": not an NTS-KE server");
  }
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl.get()), X509_free);
  if (!cert) {
    SSL_shutdown(ssl.get());
    return Status::VerifyFailed(where + " presented no certificate");
  }
  NtsKeCertificate out;
  out.server = where;
  out.subject = NameText(X509_get_subject_name(cert.get()));
  out.issuer = NameText(X509_get_issuer_name(cert.get()));
  out.not_after = TimeText(X509_get0_notAfter(cert.get()));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &md_len) == 1)
    out.sha256_hex = HexEncode(std::string(reinterpret_cast<const char*>(md), md_len));
  const long verify = SSL_get_verify_result(ssl.get());
  out.verified = verify == X509_V_OK;
  if (!out.verified) out.verify_error = X509_verify_cert_error_string(verify);
  SSL_shutdown(ssl.get());  // close_notify, best effort (non-blocking)
  ERR_clear_error();
  return out;
}

}  // namespace resmeter
