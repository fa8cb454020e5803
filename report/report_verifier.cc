#include "report/report_verifier.h"

#include <algorithm>
#include <cmath>

#include "core/strings.h"
#include "core/base64url.h"
#include "jose/jws.h"
#include "report/report.h"

namespace resmeter {
namespace {

// Length of the base64url text of `n` bytes.
size_t EncodedLength(size_t n) { return (n * 4 + 2) / 3; }

std::string FormatTime(double unix_seconds) {
  char buf[64];
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Result<ReportVerification> VerifyReport(const std::string& token_in, const PublicKey& key,
                                        const ReportVerifyOptions& options) {
  ReportVerification out;
  auto fail = [&](const std::string& name, const std::string& detail) {
    out.checks.push_back({name, false, detail});
    out.valid = false;
    out.failure = detail;
    return out;
  };
  auto pass = [&](const std::string& name, const std::string& detail) { out.checks.push_back({name, true, detail}); };

  const std::string_view token = Trim(token_in);
  if (token.empty()) return Status::Corruption("report is empty");
  if (token.size() > kMaxJwsBytes) return Status::Corruption("report is larger than 16 MiB");
  const auto parts = Split(token, '.');
  if (parts.size() != 3) {
    return Status::Corruption("report is not a JWS compact token (expected 3 dot-separated parts, found " +
                              std::to_string(parts.size()) + "): truncated or not a report");
  }
  auto header_bytes = Base64UrlDecode(parts[0]);
  if (!header_bytes) return Status::Corruption("report header is not base64url: truncated or not a report");
  auto header = ParseJwsHeaderJson(*header_bytes);
  if (!header.ok()) return Status::Corruption("report " + header.status().message());
  out.header = std::move(*header);
  if (!out.header.is_object() || !out.header.contains("alg") ||
      !out.header["alg"].is_string()) {
    return Status::Corruption("report header is not a JSON object with a string 'alg'");
  }
  pass("structure", "JWS compact, 3 parts");

  const std::string alg = out.header["alg"];
  if (alg == "none" || alg.empty()) return fail("algorithm", "algorithm '" + alg + "' is never accepted (unsigned)");
  if (std::find(options.allowed_algorithms.begin(), options.allowed_algorithms.end(), alg) ==
      options.allowed_algorithms.end()) {
    return fail("algorithm", "algorithm '" + alg + "' is not allowed by configuration");
  }
  if (out.header.contains("crit")) return fail("algorithm", "header carries unsupported 'crit' extensions");
  pass("algorithm", alg);

  const std::string kid = out.header.value("kid", "");
  if (alg != key.algorithm()) {
    return fail("key", "wrong key: report uses " + alg + " but the given key is " + key.algorithm());
  }
  if (kid != key.thumbprint()) {
    return fail("key", "wrong key: report was signed by kid " + kid + ", the given key is " + key.thumbprint());
  }
  pass("key", "kid " + kid);

  const size_t sig_bytes = alg == kAlgEdDSA ? 64 : 96;
  if (parts[2].size() != EncodedLength(sig_bytes)) {
    return Status::Corruption("report signature has " + std::to_string(parts[2].size()) + " characters, expected " +
                              std::to_string(EncodedLength(sig_bytes)) + ": truncated");
  }
  auto signature = Base64UrlDecode(parts[2]);
  if (!signature) return fail("signature", "bad signature: not valid base64url");
  const std::string signing_input = std::string(parts[0]) + "." + std::string(parts[1]);
  Status sig_status = key.Verify(signing_input, *signature);
  if (!sig_status.ok()) return fail("signature", sig_status.message());
  pass("signature", alg + " by " + kid);

  auto payload = Base64UrlDecode(parts[1]);
  if (!payload) return fail("structure", "payload is not base64url (signed by the key, but malformed)");
  auto parsed_claims = ParseJwsPayloadJson(*payload);
  if (!parsed_claims.ok()) return Status::Corruption(parsed_claims.status().message());
  nlohmann::json claims = std::move(*parsed_claims);
  if (!claims.is_object()) {
    return fail("structure", "payload is not a JSON object (signed by the key, but malformed)");
  }
  out.claims = claims;

  if (claims.value("eat_profile", "") != kReportProfile) {
    return fail("profile", "eat_profile is '" + claims.value("eat_profile", "") + "', expected " + kReportProfile);
  }
  pass("profile", kReportProfile);

  if (!claims.contains("iat") || !claims["iat"].is_number() || !claims.contains("exp") || !claims["exp"].is_number()) {
    return fail("expiry", "iat/exp missing or not numbers");
  }
  const double iat = claims["iat"], exp = claims["exp"], now = options.now_unix_seconds;
  const double skew = options.max_clock_skew_seconds;
  if (now > exp + skew) return fail("expiry", "expired at " + FormatTime(exp) + " (now " + FormatTime(now) + ")");
  if (iat > now + skew) return fail("expiry", "issued in the future at " + FormatTime(iat) + " (now " + FormatTime(now) + ")");
  pass("expiry", "valid until " + FormatTime(exp));

  const bool has_nonce = claims.contains("eat_nonce") && claims["eat_nonce"].is_string();
  if (options.expected_nonce_hex) {
    if (!has_nonce) return fail("nonce", "nonce mismatch: report carries no eat_nonce, expected " + *options.expected_nonce_hex);
    if (claims["eat_nonce"] != *options.expected_nonce_hex) {
      return fail("nonce", "nonce mismatch: report has " + claims["eat_nonce"].get<std::string>() + ", expected " +
                               *options.expected_nonce_hex);
    }
    pass("nonce", "matches");
  } else {
    pass("nonce", has_nonce ? "not checked (no --nonce given)" : "none in report");
  }
  out.valid = true;
  return out;
}

}  // namespace resmeter
