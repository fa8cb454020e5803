#include "collector/agent_tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace resmeter {
namespace {

// The first queued OpenSSL error as text (the queue is cleared).
std::string SslError() {
  const unsigned long e = ERR_peek_last_error();
  char buf[256] = "unknown error";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

Status Readable(const std::string& key, const std::string& file) {
  if (::access(file.c_str(), R_OK) != 0)
    return Status::InvalidArgument(key + ": cannot read " + file + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<const AgentTlsContext>> AgentTlsContext::Create(const AgentTlsOptions& options) {
  if (options.client_cert_file.empty() != options.client_key_file.empty())
    return Status::InvalidArgument(
        "collector.agent_client_cert_file and collector.agent_client_key_file go together");
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return Status::IOError("cannot create a TLS client context: " + SslError());
  // Owned from here on: an early return frees it.
  std::shared_ptr<const AgentTlsContext> out(new AgentTlsContext(ctx, options));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  // An agent that closes without close_notify after a complete, length-framed
  // answer is not an error (HttpFetch checks Content-Length itself).
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (!options.ca_file.empty()) {
    RESMETER_RETURN_IF_ERROR(Readable("collector.agent_ca_file", options.ca_file));
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1)
      return Status::InvalidArgument("collector.agent_ca_file " + options.ca_file +
                                     ": not PEM CA certificates (" + SslError() + ")");
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Status::InvalidArgument("cannot load the system's trust store: " + SslError());
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!options.client_cert_file.empty()) {
    RESMETER_RETURN_IF_ERROR(Readable("collector.agent_client_cert_file", options.client_cert_file));
    RESMETER_RETURN_IF_ERROR(Readable("collector.agent_client_key_file", options.client_key_file));
    if (SSL_CTX_use_certificate_chain_file(ctx, options.client_cert_file.c_str()) != 1)
      return Status::InvalidArgument("collector.agent_client_cert_file " + options.client_cert_file +
                                     ": not a PEM certificate chain (" + SslError() + ")");
    const bool loaded =
        SSL_CTX_use_PrivateKey_file(ctx, options.client_key_file.c_str(), SSL_FILETYPE_PEM) == 1;
    const bool mismatch = !loaded && ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    if (!loaded && !mismatch)
      return Status::InvalidArgument("collector.agent_client_key_file " + options.client_key_file +
                                     ": not a PEM private key (" + SslError() + ")");
    if (mismatch || SSL_CTX_check_private_key(ctx) != 1)
      return Status::InvalidArgument("collector.agent_client_key_file " + options.client_key_file +
                                     " does not match collector.agent_client_cert_file " +
                                     options.client_cert_file);
  }
  return out;
}

AgentTlsContext::~AgentTlsContext() { SSL_CTX_free(ctx_); }

}  // namespace resmeter
