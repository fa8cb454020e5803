// JWS compact serialization (RFC 7515): signing and structural parsing.
//
// Parsing checks structure only (three base64url parts, a JSON object header
// with a string `alg`); signature checks are PublicKey::Verify's job, and
// claim checks (exp, nonce, ...) are the report verifier's. All functions are
// pure and thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"

namespace resmeter {

class SigningKey;

// Largest token accepted by ParseJws, to bound memory on hostile input.
inline constexpr size_t kMaxJwsBytes = 16 * 1024 * 1024;
// Largest decoded protected header ParseJws accepts (its nesting is bounded
// by ParseUntrustedJson's default depth).
inline constexpr size_t kMaxJwsHeaderBytes = 64 * 1024;

struct ParsedJws {
  nlohmann::json header;      // the protected header
  std::string payload;        // decoded payload bytes
  std::string signing_input;  // "BASE64URL(header).BASE64URL(payload)"
  std::string signature;      // decoded signature bytes
};

// Signs `payload` with header {alg, kid, typ?} plus `extra_header` members.
Result<std::string> JwsSign(const SigningKey& key, const std::string& payload,
                            const nlohmann::json& extra_header);
// Splits and decodes a compact token. Corruption with the precise reason
// (also for a header over kMaxJwsHeaderBytes or nested deeper than 64).
Result<ParsedJws> ParseJws(const std::string& token);
// Parses a decoded JWS protected header with the untrusted-input bounds:
// size kMaxJwsHeaderBytes, nesting 64. Corruption naming the bound exceeded.
Result<nlohmann::json> ParseJwsHeaderJson(const std::string& header);
// Parses a decoded JWS payload (claims) with the untrusted-input bounds:
// size kMaxJwsBytes, nesting 64. Corruption naming the bound exceeded.
Result<nlohmann::json> ParseJwsPayloadJson(const std::string& payload);

}  // namespace resmeter
