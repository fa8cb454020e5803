#include "report/report.h"

#include <cmath>

#include "core/base64url.h"
#include "core/strings.h"
#include "core/version.h"
#include "jose/openssl_util.h"

namespace resmeter {

std::string UeidForThumbprint(const std::string& thumbprint) {
  std::string ueid(1, '\x01');  // EAT UEID type 0x01: a random number
  ueid += Sha256(thumbprint);
  return Base64UrlEncode(ueid);
}

nlohmann::ordered_json BuildReportClaims(const ReportInputs& in, const Signer& signer) {
  const auto iat = static_cast<int64_t>(std::floor(in.issued_at_unix_seconds));
  nlohmann::ordered_json claims;
  claims["eat_profile"] = kReportProfile;
  claims["iat"] = iat;
  claims["exp"] = iat + in.validity_seconds;
  if (in.nonce_hex) claims["eat_nonce"] = *in.nonce_hex;
  claims["ueid"] = UeidForThumbprint(signer.Thumbprint());
  claims["swname"] = SoftwareName();
  claims["swversion"] = SoftwareVersion();
  claims["cnf"] = {{"jwk", signer.PublicJwk()}};
  claims["key_origin"] = in.key_origin;
  claims["live"] = in.live;
  claims["not_live_reasons"] = in.not_live_reasons;
  claims["time"] = in.time;
  claims["evidence"] = in.evidence;
  claims["submods"] = in.submods;
  return claims;
}

Result<std::string> SignReport(const ReportInputs& in, const Signer& signer) {
  return signer.SignCompact(BuildReportClaims(in, signer).dump());
}

Result<std::string> NormalizeNonceHex(const std::string& hex) {
  auto bytes = HexDecode(hex);
  if (!bytes) return Status::InvalidArgument("nonce '" + hex + "' is not hex (an even number of 0-9a-f digits)");
  if (bytes->size() < 8 || bytes->size() > 64) {
    return Status::InvalidArgument("nonce must be 8 to 64 bytes (16 to 128 hex digits), got " +
                                   std::to_string(bytes->size()) + " bytes");
  }
  return HexEncode(*bytes);
}

}  // namespace resmeter
