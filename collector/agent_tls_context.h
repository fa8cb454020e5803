// AgentTlsContext: the collector's TLS client side for https:// agents (an
// agent serving its API with a web config, agent/web_config.h). One OpenSSL
// client context, set up once and shared read-only by every fetch:
//   - the agent's server certificate is always verified: against ca_file
//     when given (a private CA for the fleet), else the system's trust store;
//     the certificate must name the URL's host (DNS name or IP address in
//     subjectAltName): a wrong CA, an expired certificate or another host's
//     certificate fails the handshake, never only warns;
//   - client_cert_file / client_key_file: the certificate the collector shows
//     to agents that require one (client_auth_type RequireAndVerifyClientCert);
//   - TLS 1.2 or later.
// Thread-safe after Create (OpenSSL contexts are safe to share once set up).
#pragma once

#include <memory>
#include <string>

#include "core/result.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace resmeter {

struct AgentTlsOptions {
  std::string ca_file;           // PEM CA certificates; empty: the system's trust store
  std::string client_cert_file;  // PEM chain, leaf first; empty: no client certificate
  std::string client_key_file;   // its PEM private key (required with client_cert_file)
};

class AgentTlsContext {
 public:
  // InvalidArgument naming the file that is missing, unreadable or not what it should be.
  static Result<std::shared_ptr<const AgentTlsContext>> Create(const AgentTlsOptions& options);
  ~AgentTlsContext();
  AgentTlsContext(const AgentTlsContext&) = delete;
  AgentTlsContext& operator=(const AgentTlsContext&) = delete;

  SSL_CTX* ctx() const { return ctx_; }
  const AgentTlsOptions& options() const { return options_; }

 private:
  AgentTlsContext(SSL_CTX* ctx, AgentTlsOptions options) : ctx_(ctx), options_(std::move(options)) {}
  SSL_CTX* ctx_;
  AgentTlsOptions options_;
};

}  // namespace resmeter
