// Evidence crypto: the OpenSSL 3 (EVP/X509) primitives the evidence
// verifiers share (digests are in jose/openssl_util.h): certificate parsing, chain verification at a
// pinned time, raw (r, s) ECDSA verification, EC keys from coordinates.
//
// Stateless functions; safe to call from several threads at once.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "jose/openssl_util.h"

namespace resmeter {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509StoreDeleter {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct X509StoreCtxDeleter {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct X509StackDeleter {  // frees the stack only: the certificates stay with their owners
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using X509StorePtr = std::unique_ptr<X509_STORE, X509StoreDeleter>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, X509StoreCtxDeleter>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;


// Parses one or more certificates: a PEM bundle (any number of CERTIFICATE
// blocks) or a single DER certificate. Corruption naming `what` otherwise.
Result<std::vector<X509Ptr>> ParseCertificates(std::string_view bytes, std::string_view what);
// The certificate's DER encoding.
std::string CertificateDer(X509* cert);
// The subject's commonName, or "" when absent.
std::string CertificateCommonName(X509* cert);

// Verifies `leaf` up through `intermediates` to `root`, which is the only
// trust anchor (and must be self-signed). `at` pins the check time (Unix
// seconds); without it the current time is used. VerifyFailed carries
// OpenSSL's reason and the depth of the failing certificate.
Status VerifyCertificateChain(X509* leaf, const std::vector<X509*>& intermediates, X509* root,
                              std::optional<time_t> at);

// Verifies an ECDSA signature given as big-endian r and s over `message`
// hashed with `md` (e.g. EVP_sha384()). VerifyFailed when it does not hold.
Status VerifyEcdsaRaw(EVP_PKEY* key, const EVP_MD* md, std::string_view message, std::string_view r_be,
                      std::string_view s_be);

// Builds an EC public key from big-endian affine coordinates on the named
// curve ("P-256", "P-384"). Corruption when the point is not on the curve.
Result<EvpPkeyPtr> EcPublicKeyFromXY(const char* curve, std::string_view x, std::string_view y);

// Reverses a byte string (little-endian <-> big-endian integers).
std::string ReverseBytes(std::string_view bytes);

}  // namespace resmeter
