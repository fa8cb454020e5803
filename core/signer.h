// Signer: the one capability meters and services get for signing, without
// knowing keys or algorithms (those live in jose/).
//
// The network meter uses it so both agents sign the same canonical summary.
// Implementations are thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"

namespace resmeter {

class Signer {
 public:
  virtual ~Signer() = default;
  // Signs `payload` bytes and returns a JWS compact serialization whose
  // payload is `payload` (base64url) and whose header carries alg and kid.
  virtual Result<std::string> SignCompact(const std::string& payload) const = 0;
  // The public key as a JWK (RFC 7517) object.
  virtual nlohmann::json PublicJwk() const = 0;
  // The RFC 7638 thumbprint of PublicJwk(), base64url.
  virtual std::string Thumbprint() const = 0;
};

}  // namespace resmeter
