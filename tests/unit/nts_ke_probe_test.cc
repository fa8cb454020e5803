// ProbeNtsKeCertificate (timesource/nts_ke_probe.h) against servers on
// loopback made in the test with OpenSSL: an NTS-KE server (TLS 1.3, ALPN
// ntske/1, a certificate made here) has its subject, issuer and fingerprint
// recorded, verified with its CA file and not verified without; a TLS server
// without ALPN, a plain-TCP server writing garbage, a silent server and a
// closed port each give a reason, within the timeout. The policy pin
// time.nts_certificate_subjects passes and fails on the recorded claim.
// About 1 s (the silent server waits out a 0.5 s timeout).
#include "timesource/nts_ke_probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "policy/policy.h"
#include "policy/policy_evaluator.h"
#include "support/temp_dir.h"
#include "timesource/chrony_protocol.h"
#include "timesource/nts_certificate.h"

namespace resmeter {
namespace {

// A one-thread server on 127.0.0.1 that answers each connection as `mode` says.
class TestNtsKeServer {
 public:
  enum class Mode { kNtsKe, kNoAlpn, kGarbage, kSilent };

  explicit TestNtsKeServer(Mode mode) : mode_(mode) {
    MakeCertificate();
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION);
    SSL_CTX_use_certificate(ctx_, cert_);
    SSL_CTX_use_PrivateKey(ctx_, key_);
    if (mode == Mode::kNtsKe) SSL_CTX_set_alpn_select_cb(ctx_, SelectNtsKe, nullptr);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (mode != Mode::kSilent) thread_ = std::thread([this] { Serve(); });
  }
  ~TestNtsKeServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
    SSL_CTX_free(ctx_);
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }

  int port() const { return port_; }
  std::string CertPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert_);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(bio);
    return out;
  }

 private:
  static int SelectNtsKe(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                         unsigned int inlen, void*) {
    static const unsigned char kProto[] = {7, 'n', 't', 's', 'k', 'e', '/', '1'};
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, outlen, kProto, sizeof kProto, in, inlen) != OPENSSL_NPN_NEGOTIATED)
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }

  // A self-signed EC certificate for 127.0.0.1 and localhost.
  void MakeCertificate() {
    key_ = EVP_EC_gen("P-256");
    cert_ = X509_new();
    X509_set_version(cert_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 4460);
    X509_NAME* name = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("resmeter test"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("nts.test"),
                               -1, -1, 0);
    X509_set_issuer_name(cert_, name);
    X509_gmtime_adj(X509_getm_notBefore(cert_), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 86400);
    X509_set_pubkey(cert_, key_);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert_, cert_, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
      X509_add_ext(cert_, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(cert_, key_, EVP_sha256());
  }

  void Serve() {
    // A client that closes first must not end the test process with SIGPIPE.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      timeval tv{2, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      if (mode_ == Mode::kGarbage) {
        const char kReply[] = "HTTP/1.0 200 OK\r\n\r\nthis is not TLS\n";
        (void)!::write(c, kReply, sizeof kReply - 1);
        char buf[512];
        (void)!::read(c, buf, sizeof buf);
      } else {
        SSL* ssl = SSL_new(ctx_);
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) == 1) {
          char buf[256];
          while (SSL_read(ssl, buf, sizeof buf) > 0) {
          }
        }
        SSL_free(ssl);
        ERR_clear_error();
      }
      ::close(c);
    }
  }

  Mode mode_;
  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A generous timeout (a loaded machine, valgrind): only the silent server waits it out, with 0.5 s.
NtsKeProbeOptions Options(int port, const std::string& ca_file = "", double timeout_seconds = 10) {
  NtsKeProbeOptions o;
  o.port = port;
  o.timeout_seconds = timeout_seconds;
  o.ca_file = ca_file;
  return o;
}

TEST(NtsKeProbe, RecordsTheCertificateOfAnNtsKeServer) {
  TestNtsKeServer server(TestNtsKeServer::Mode::kNtsKe);
  TempDir tmp;
  const std::string ca = tmp.path() + "/nts-ca.pem";
  std::ofstream(ca) << server.CertPem();

  auto cert = ProbeNtsKeCertificate("127.0.0.1", Options(server.port(), ca));
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->subject, "CN=nts.test,O=resmeter test");
  EXPECT_EQ(cert->issuer, cert->subject);
  EXPECT_EQ(cert->sha256_hex.size(), 64u);
  EXPECT_TRUE(cert->verified) << cert->verify_error;
  EXPECT_EQ(cert->server, "127.0.0.1:" + std::to_string(server.port()));

  // By name (SNI and host-name check): localhost is in the certificate.
  cert = ProbeNtsKeCertificate("localhost", Options(server.port(), ca));
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_TRUE(cert->verified) << cert->verify_error;

  // The system store does not know this CA: recorded, but not verified, with the reason.
  cert = ProbeNtsKeCertificate("127.0.0.1", Options(server.port()));
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_FALSE(cert->verified);
  EXPECT_NE(cert->verify_error.find("self"), std::string::npos) << cert->verify_error;

  const nlohmann::json claim = NtsCertificateJson(*cert, 1.7e9);
  EXPECT_EQ(claim["subject"], cert->subject);
  EXPECT_EQ(claim["verified"], false);
  EXPECT_TRUE(claim.contains("verify_error"));
}

TEST(NtsKeProbe, ServersThatAreNotNtsKeGiveAReason) {
  {
    TestNtsKeServer server(TestNtsKeServer::Mode::kNoAlpn);
    auto cert = ProbeNtsKeCertificate("127.0.0.1", Options(server.port()));
    ASSERT_FALSE(cert.ok());
    EXPECT_NE(cert.status().message().find("ALPN"), std::string::npos) << cert.status().ToString();
  }
  {
    TestNtsKeServer server(TestNtsKeServer::Mode::kGarbage);
    auto cert = ProbeNtsKeCertificate("127.0.0.1", Options(server.port()));
    ASSERT_FALSE(cert.ok());
    EXPECT_NE(cert.status().message().find("handshake"), std::string::npos) << cert.status().ToString();
  }
  {
    TestNtsKeServer server(TestNtsKeServer::Mode::kSilent);
    const auto t0 = std::chrono::steady_clock::now();
    auto cert = ProbeNtsKeCertificate("127.0.0.1", Options(server.port(), "", 0.5));
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_FALSE(cert.ok());
    EXPECT_EQ(cert.status().code(), Status::Code::kDeadlineExceeded) << cert.status().ToString();
    EXPECT_LT(took, 5.0) << "bounded by the 0.5 s timeout (5 s: a loaded machine)";
  }
  int closed = 0;
  {
    TestNtsKeServer server(TestNtsKeServer::Mode::kSilent);
    closed = server.port();
  }
  auto cert = ProbeNtsKeCertificate("127.0.0.1", Options(closed));
  ASSERT_FALSE(cert.ok());
  EXPECT_NE(cert.status().message().find("cannot connect"), std::string::npos) << cert.status().ToString();
  EXPECT_FALSE(ProbeNtsKeCertificate("", Options(closed)).ok());
  EXPECT_FALSE(ProbeNtsKeCertificate("127.0.0.1", Options(0)).ok());
}

TEST(NtsKeProbe, PolicyPinsTheCertificate) {
  const nlohmann::json time = {{"server", "192.0.2.10"},
                               {"server_name", "nts.example"},
                               {"nts_authenticated", true},
                               {"nts_certificate",
                                {{"server", "nts.example:4460"},
                                 {"subject", "CN=nts.example,O=Example"},
                                 {"issuer", "CN=Example CA"},
                                 {"sha256", "ab12"},
                                 {"verified", true}}}};
  auto clause = [&](const std::string& yaml, const nlohmann::json& t) {
    auto p = ParsePolicy(yaml, "p.yaml");
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    PolicyVerdict v = EvaluatePolicy(*p, nlohmann::json{{"time", t}}, EvidenceAppraisal{}, 0);
    for (const auto& c : v.clauses)
      if (c.name == "time.nts_certificate") return c;
    ADD_FAILURE() << "no time.nts_certificate clause";
    return ClauseResult{};
  };
  EXPECT_TRUE(clause("time: {nts_certificate_subjects: [nts.example]}\n", time).passed);
  EXPECT_TRUE(clause("time: {nts_certificate_subjects: [\"CN=nts.example,O=Example\"]}\n", time).passed);
  EXPECT_TRUE(clause("time: {nts_certificate_subjects: [\"sha256:ab12\"]}\n", time).passed);
  // The provider's own server, with a certificate of its own: the clause fails.
  ClauseResult r = clause("time: {nts_certificate_subjects: [time.cloudflare.com]}\n", time);
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.measured.find("CN=nts.example"), std::string::npos) << r.measured;
  // Listed, but the chain did not verify: fails.
  nlohmann::json unverified = time;
  unverified["nts_certificate"]["verified"] = false;
  unverified["nts_certificate"]["verify_error"] = "self-signed certificate";
  r = clause("time: {nts_certificate_subjects: [nts.example]}\n", unverified);
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.measured.find("self-signed"), std::string::npos) << r.measured;
  // No certificate in the claim (the handshake failed): unavailable, fails.
  nlohmann::json none = time;
  none.erase("nts_certificate");
  r = clause("time: {nts_certificate_subjects: [nts.example]}\n", none);
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.measured.find("unavailable"), std::string::npos) << r.measured;
  // The server name of the claim pins the source too (time.nts_servers).
  auto p = ParsePolicy("time: {nts_servers: [nts.example]}\n", "p.yaml");
  ASSERT_TRUE(p.ok());
  PolicyVerdict v = EvaluatePolicy(*p, nlohmann::json{{"time", time}}, EvidenceAppraisal{}, 0);
  bool found = false;
  for (const auto& c : v.clauses) {
    if (c.name != "time.nts_server") continue;
    found = true;
    EXPECT_TRUE(c.passed) << c.measured;
  }
  EXPECT_TRUE(found);
}

TEST(NtsKeProbe, ChronySourceNameReplyIsDecodedAndChecked) {
  std::string data(256, '\0');
  data.replace(0, 11, "nts.example");
  auto name = chrony::DecodeNtpSourceName(data);
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(*name, "nts.example");
  EXPECT_FALSE(chrony::DecodeNtpSourceName(data.substr(0, 100)).ok()) << "truncated";
  EXPECT_FALSE(chrony::DecodeNtpSourceName(std::string(256, '\0')).ok()) << "empty";
  data[3] = '\n';
  EXPECT_FALSE(chrony::DecodeNtpSourceName(data).ok()) << "not printable";
  // The request is padded to the reply's length (chronyd's anti-amplification rule).
  EXPECT_EQ(chrony::EncodeNtpSourceNameRequest({}, 1, 0).size(), 28u + 256u);
}

}  // namespace
}  // namespace resmeter
