#include "jose/jws.h"

#include "core/base64url.h"
#include "core/strings.h"
#include "core/untrusted_json.h"
#include "jose/ecdsa_low_s.h"
#include "jose/jwk.h"
#include "jose/signing_key.h"

namespace resmeter {

Result<std::string> JwsSign(const SigningKey& key, const std::string& payload,
                            const nlohmann::json& extra_header) {
  nlohmann::ordered_json header;
  header["alg"] = key.algorithm();
  header["kid"] = key.Thumbprint();
  for (auto it = extra_header.begin(); it != extra_header.end(); ++it) header[it.key()] = it.value();
  const std::string signing_input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload);
  RESMETER_ASSIGN_OR_RETURN(std::string sig, key.SignRaw(signing_input));
  // ES384 signatures come out of SignRaw in the canonical low-S form.
  return signing_input + "." + Base64UrlEncode(sig);
}

Result<ParsedJws> ParseJws(const std::string& token_in) {
  std::string_view token = Trim(token_in);
  if (token.empty()) return Status::Corruption("empty token");
  if (token.size() > kMaxJwsBytes)
    return Status::Corruption("token larger than " + std::to_string(kMaxJwsBytes) + " bytes");
  auto parts = Split(token, '.');
  if (parts.size() != 3) {
    return Status::Corruption("not a JWS compact token: expected 3 dot-separated parts, found " +
                              std::to_string(parts.size()));
  }
  ParsedJws out;
  auto header_bytes = Base64UrlDecode(parts[0]);
  if (!header_bytes) return Status::Corruption("JWS header is not base64url");
  auto payload = Base64UrlDecode(parts[1]);
  if (!payload) return Status::Corruption("JWS payload is not base64url");
  auto sig = Base64UrlDecode(parts[2]);
  if (!sig) return Status::Corruption("JWS signature is not base64url");
  // Bounded before any parse or copy: a deeply nested header would overflow the stack later.
  RESMETER_ASSIGN_OR_RETURN(out.header, ParseJwsHeaderJson(*header_bytes));
  if (!out.header.is_object()) return Status::Corruption("JWS header is not a JSON object");
  if (!out.header.contains("alg") || !out.header["alg"].is_string()) {
    return Status::Corruption("JWS header has no string 'alg'");
  }
  if (out.header.contains("crit"))
    return Status::Corruption("JWS header has 'crit' extensions resmeter does not understand");
  out.payload = std::move(*payload);
  out.signature = std::move(*sig);
  out.signing_input = std::string(parts[0]) + "." + std::string(parts[1]);
  return out;
}

Result<nlohmann::json> ParseJwsHeaderJson(const std::string& header) {
  JsonLimits limits;
  limits.max_bytes = kMaxJwsHeaderBytes;
  limits.what = "JWS header";
  auto j = ParseUntrustedJson(header, limits);
  if (!j.ok()) return Status::Corruption(j.status().message());
  return j;
}

Result<nlohmann::json> ParseJwsPayloadJson(const std::string& payload) {
  JsonLimits limits;
  limits.max_bytes = kMaxJwsBytes;
  limits.what = "JWS payload";
  auto j = ParseUntrustedJson(payload, limits);
  if (!j.ok()) return Status::Corruption(j.status().message());
  return j;
}

}  // namespace resmeter
