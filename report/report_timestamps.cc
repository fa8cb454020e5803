#include "report/report_timestamps.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/base64url.h"
#include "core/strings.h"
#include "jose/openssl_util.h"
#include "tsa/timestamp_verifier.h"

namespace resmeter {
namespace {

using O = CheckOutcome;

std::string Seconds(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// "2026-12-02T13:47:30Z (1796305650)".
std::string When(double unix_seconds) {
  char buf[64];
  const time_t t = static_cast<time_t>(std::floor(unix_seconds));
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf) + " (" + std::to_string(static_cast<long long>(t)) + ")";
}

std::string StringMember(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

Result<std::string> ReportImprint(const nlohmann::json& claims) {
  if (!claims.is_object()) return Status::InvalidArgument("report claims are not a JSON object");
  nlohmann::json rest = claims;
  rest.erase(kReportTimestampsMember);
  try {
    return Sha256(rest.dump());
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("report claims cannot be written as JSON: ") + e.what());
  }
}

void AddReportTimestampChecks(const nlohmann::json& claims, const ReportTimestampOptions& options,
                              Verdict& verdict) {
  const std::vector<std::string>& required = options.require_tsa;
  const std::string required_text = "a verified token from one of " + Join(required);
  if (!claims.contains(kReportTimestampsMember)) {
    if (required.empty()) {
      verdict.Add("timestamp", O::kNotApplicable, "not present");
    } else {
      verdict.Add("policy.time.require_tsa", O::kFailed, required_text + "; the report carries no token");
    }
    return;
  }
  const nlohmann::json& entries = claims[kReportTimestampsMember];
  auto imprint = ReportImprint(claims);
  const bool has_iat = claims.contains("iat") && claims["iat"].is_number();
  if (!entries.is_array() || !imprint.ok() || !has_iat) {
    verdict.Add("timestamp", O::kFailed,
                !entries.is_array() ? "timestamps is not an array"
                : !has_iat          ? "the report has no numeric iat to check against its tokens"
                                    : imprint.status().message());
    if (!required.empty()) verdict.Add("policy.time.require_tsa", O::kFailed, required_text);
    return;
  }
  const double iat = claims["iat"].get<double>();
  const std::string imprint_hex = HexEncode(*imprint);
  std::vector<std::string> not_stamped;  // entries the agent wrote instead of a token: "tsa: why"
  size_t tokens = 0;
  std::string counted_signer;  // a verified, in-bracket token that satisfies require_tsa

  for (const nlohmann::json& entry : entries) {
    if (!entry.is_object()) {
      verdict.Add("timestamp", O::kFailed, "an entry of timestamps is not an object");
      continue;
    }
    const std::string tsa = StringMember(entry, "tsa");
    const std::string name = "timestamp[" + (tsa.empty() ? std::string("?") : tsa) + "]";
    if (entry.contains("error") && !entry.contains("token")) {
      not_stamped.push_back((tsa.empty() ? "?" : tsa) + ": " + StringMember(entry, "error"));
      continue;
    }
    ++tokens;
    const std::string token = StringMember(entry, "token");
    const std::string nonce_hex = StringMember(entry, "nonce_hex");
    const std::string stated_imprint = StringMember(entry, "imprint");
    if (token.empty() || nonce_hex.empty() || stated_imprint.empty()) {
      verdict.Add(name, O::kFailed, "the entry lacks a string token, nonce_hex or imprint");
      continue;
    }
    if (stated_imprint != imprint_hex) {
      verdict.Add(
          name, O::kFailed,
          "imprint: the entry states " + stated_imprint + ", the signed claims hash to " + imprint_hex);
      continue;
    }
    auto der = Base64UrlDecode(token);
    if (!der) {
      verdict.Add(name, O::kFailed, "the token is not base64url");
      continue;
    }
    if (options.anchors.empty()) {
      verdict.Add(name, O::kWarning,
                  "not checked: no TSA trust anchors (" + options.anchors.source() +
                      "; put the TSA's root in <trust_anchors_dir>/tsa/)");
      continue;
    }
    auto verified = VerifyTimestampToken(*der, {*imprint, nonce_hex}, options.anchors);
    if (!verified.ok()) {
      verdict.Add(name, O::kFailed, verified.status().message());
      continue;
    }
    const std::string& signer = verified->signer_subject;
    if (!required.empty() && !TsaSignerListed(signer, required)) {
      verdict.Add(name, O::kWarning,
                  "signed by \"" + signer + "\", not a TSA the policy requires (" + Join(required) +
                      "); not counted");
      continue;
    }
    const double t = verified->info.gen_time_unix_seconds;
    const double tolerance = options.tolerance_seconds + std::max(0.0, verified->info.accuracy_seconds);
    const double earliest = t - options.max_stamp_delay_seconds - tolerance;
    const std::string both =
        "iat " + When(iat) + ", TSA time " + verified->info.gen_time_text + " (" + Seconds(t) + ")";
    if (iat > t + tolerance) {
      verdict.Add(name, O::kFailed,
                  both + ": iat is " + Seconds(iat - t) +
                      " s after the TSA stamped the report: the agent's clock ran fast (tolerance " +
                      Seconds(tolerance) + " s)");
    } else if (iat < earliest) {
      verdict.Add(name, O::kFailed,
                  both + ": iat is " + Seconds(t - iat) +
                      " s before the TSA stamped the report: the agent's clock ran slow, or the report was "
                      "held back before it was stamped (allowed: " +
                      Seconds(options.max_stamp_delay_seconds + tolerance) + " s)");
    } else {
      verdict.Add(name, O::kPassed,
                  "signed by \"" + signer + "\"; " + both + ": iat within [-" +
                      Seconds(options.max_stamp_delay_seconds + tolerance) + ", +" + Seconds(tolerance) +
                      "] s of it");
      if (counted_signer.empty()) counted_signer = signer;
    }
  }

  if (tokens == 0) {
    verdict.Add("timestamp", O::kNotApplicable,
                "not present" + (not_stamped.empty() ? std::string() : " (" + Join(not_stamped) + ")"));
  } else if (!not_stamped.empty()) {
    verdict.Add("timestamp", O::kWarning, "not stamped by " + Join(not_stamped));
  }
  if (!required.empty()) {
    if (!counted_signer.empty()) {
      verdict.Add("policy.time.require_tsa", O::kPassed, "a verified token from \"" + counted_signer + "\"");
    } else {
      verdict.Add("policy.time.require_tsa", O::kFailed,
                  required_text + (tokens == 0 ? "; the report carries no token" : "; none counted") +
                      (not_stamped.empty() ? "" : " (" + Join(not_stamped) + ")"));
    }
  }
}

}  // namespace resmeter
