// Public keys as JWK (RFC 7517) and their RFC 7638 thumbprints, and the
// verification of raw JWS signatures with them.
//
// Supported: OKP/Ed25519 (alg EdDSA) and EC/P-384 (alg ES384). A PublicKey is
// immutable after creation and safe to use from several threads.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace resmeter {

// JWS algorithm names resmeter signs and verifies.
inline constexpr const char* kAlgEdDSA = "EdDSA";
inline constexpr const char* kAlgES384 = "ES384";

class PublicKey {
 public:
  // Parses a public JWK; InvalidArgument naming the bad member.
  static Result<std::shared_ptr<const PublicKey>> FromJwk(const nlohmann::json& jwk);
  // Wraps an EVP_PKEY (takes a reference; the caller keeps its own).
  static Result<std::shared_ptr<const PublicKey>> FromEvp(EVP_PKEY* pkey);
  ~PublicKey();
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  // "EdDSA" or "ES384".
  const std::string& algorithm() const { return alg_; }
  // The public JWK with only the required members (kty, crv, x[, y]).
  const nlohmann::json& jwk() const { return jwk_; }
  // RFC 7638 SHA-256 thumbprint, base64url.
  const std::string& thumbprint() const { return thumbprint_; }
  // Checks a JWS signature (raw format: 64 bytes Ed25519, R||S 96 bytes ES384).
  // VerifyFailed when it does not match.
  Status Verify(const std::string& signing_input, const std::string& signature) const;

 private:
  PublicKey() = default;
  EVP_PKEY* pkey_ = nullptr;
  std::string alg_;
  nlohmann::json jwk_;
  std::string thumbprint_;
};

// The RFC 7638 thumbprint of a public JWK (its required members, sorted, no spaces).
Result<std::string> JwkThumbprint(const nlohmann::json& jwk);

}  // namespace resmeter
