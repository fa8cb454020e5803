// The `evidence` claim of reports and identity documents: evidence from the
// backend detected (or required) by the config, bound to the signing key's
// thumbprint and the nonce. Called once per report; not thread-safe with
// itself (backends create configfs entries / TPM sessions).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/option_spec.h"
#include "core/result.h"

namespace resmeter {

// With evidence.backend "auto": the detected backend's evidence, or type
// "none" with the reason (no backend, or the collection error). With a
// required backend: its evidence, or the error (NotSupported / IOError).
// `nonce` is the raw nonce (may be empty).
Result<nlohmann::json> CollectEvidenceClaim(const Options& global, const std::string& thumbprint,
                                            const std::string& nonce);

}  // namespace resmeter
