// Verifies a signed report: structure, algorithm, key, signature, validity
// window, nonce and profile, in that order, recording each check.
//
// Input problems that make the token unusable (not three parts, undecodable
// header, a truncated signature) are errors of the call (exit 2); everything
// else is a failed check in the result (exit 1). Signature first, over the
// raw signing input, so any change to payload or signature fails as
// "bad signature" before the payload is even decoded. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "jose/jwk.h"

namespace resmeter {

struct ReportVerifyOptions {
  std::optional<std::string> expected_nonce_hex;  // require eat_nonce == this
  double now_unix_seconds = 0;
  std::vector<std::string> allowed_algorithms = {kAlgEdDSA, kAlgES384};
  double max_clock_skew_seconds = 60;
};

struct VerifyCheck {
  std::string name;    // "structure", "algorithm", "key", "signature", "expiry", "nonce", "profile"
  bool passed = false;
  std::string detail;  // what was found, or why it failed
};

struct ReportVerification {
  bool valid = false;
  std::string failure;  // the first failed check's detail, when !valid
  std::vector<VerifyCheck> checks;
  nlohmann::json header;
  nlohmann::json claims;  // empty unless the signature verified
};

// Verifies `token` against `key`. Error Result only for unusable input.
Result<ReportVerification> VerifyReport(const std::string& token, const PublicKey& key,
                                        const ReportVerifyOptions& options);

}  // namespace resmeter
