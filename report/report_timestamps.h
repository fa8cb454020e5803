// RFC 3161 time-stamp tokens on a report (the `timestamps` member), and
// their appraisal by `verify`.
//
// The agent builds the claims, hashes them (ReportImprint: SHA-256 of the
// canonical JSON of the claims without `timestamps`: sorted keys, no
// whitespace, as nlohmann::json::dump() writes a parsed object), asks each
// TSA to stamp that hash, adds
//   timestamps: [{tsa, token (base64url DER TimeStampToken), nonce_hex, imprint (hex)}
//                | {tsa, error}]
// and only then signs. The JWS signature covers the tokens; each token
// covers every other claim, `iat` and `eat_nonce` included.
//
// What a verified token proves: the payload existed no later than the TSA's
// genTime T. Since the agent sets `iat` before it asks, an honest clock gives
//   T - max_stamp_delay - tolerance <= iat <= T + tolerance
// (tolerance: the stated tolerance plus the token's accuracy). `iat` after
// that window is a clock run fast; before it, one run slow (or a report held
// back before stamping). It does not prove the measurements are right.
//
// Checks added to the verdict: `timestamp` (not_applicable "not present"
// when the report carries no token), one `timestamp[<tsa>]` per carried
// token (failed: malformed entry, imprint, nonce, chain, signature, or iat
// outside the bracket; warning: no TSA anchors to check with, or a TSA the
// policy does not require), and `policy.time.require_tsa` when the policy
// lists TSAs (passed only with a verified, in-bracket token from one of
// them). Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/verdict.h"
#include "tsa/tsa_anchors.h"

namespace resmeter {

inline constexpr const char* kReportTimestampsMember = "timestamps";
// Default of policy time.max_stamp_delay_seconds: the longest time.tsa_timeout_seconds.
inline constexpr double kDefaultMaxStampDelaySeconds = 120;
// Default of policy time.bracket_tolerance_seconds (as for the ledger).
inline constexpr double kDefaultBracketToleranceSeconds = 5;

// SHA-256 (32 raw bytes) of the canonical JSON of `claims` without
// `timestamps`. InvalidArgument when `claims` is not an object or holds text
// that is not UTF-8.
Result<std::string> ReportImprint(const nlohmann::json& claims);

struct ReportTimestampOptions {
  TsaAnchors anchors;                    // <trust_anchors_dir>/tsa/*.pem
  std::vector<std::string> require_tsa;  // policy time.require_tsa (signer CN or subject); empty: any
  double tolerance_seconds = kDefaultBracketToleranceSeconds;
  double max_stamp_delay_seconds = kDefaultMaxStampDelaySeconds;
};

// Appends the checks described above for the signed, verified `claims`.
void AddReportTimestampChecks(const nlohmann::json& claims, const ReportTimestampOptions& options,
                              Verdict& verdict);

}  // namespace resmeter
