// ProbeNtsKeCertificate: which certificate an NTS-KE server (RFC 8915)
// presents. chronyd authenticates its NTS source with that certificate but
// its command protocol does not say which one it was, so resmeter makes the
// same TLS handshake itself: TLS 1.3, ALPN "ntske/1", SNI and host name
// checked, the chain verified against the system store (or a given CA
// file), then closes without asking for keys. The result names the leaf's
// subject, issuer and SHA-256 fingerprint and whether the chain verified.
//
// Bounded: resolution, connect and handshake together end within
// timeout_seconds (a slow resolver is abandoned on its own thread). A server
// that does not speak TLS 1.3, does not select ALPN ntske/1, or presents no
// certificate is an error naming what was wrong. Thread-safe.
#pragma once

#include <string>

#include "core/result.h"

namespace resmeter {

inline constexpr int kNtsKeDefaultPort = 4460;

struct NtsKeProbeOptions {
  int port = kNtsKeDefaultPort;
  double timeout_seconds = 3;
  std::string ca_file;  // PEM CA certificates to verify with; empty: the system store
};

struct NtsKeCertificate {
  std::string server;        // "name:port" as probed
  std::string subject;       // leaf subject, RFC 2253
  std::string issuer;        // leaf issuer, RFC 2253
  std::string sha256_hex;    // SHA-256 of the leaf's DER
  bool verified = false;     // chain to a trusted CA, valid now, the name matches
  std::string verify_error;  // OpenSSL's reason when !verified
  std::string not_after;     // the leaf's notAfter, as OpenSSL prints it
};

// InvalidArgument for an empty name or bad port; NotFound when the name does
// not resolve; IOError when no address accepts a connection or the TLS
// handshake fails (the message says why); DeadlineExceeded past the timeout;
// VerifyFailed when the server does not select ALPN ntske/1.
Result<NtsKeCertificate> ProbeNtsKeCertificate(const std::string& server_name,
                                               const NtsKeProbeOptions& options);

}  // namespace resmeter
