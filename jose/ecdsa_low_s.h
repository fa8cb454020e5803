// Canonical ("low-S") ECDSA P-384 signatures for ES384.
//
// An ECDSA signature (r, s) and (r, n - s) verify alike, so a third party can
// turn one valid token into a second valid token with different bytes
// (malleability): a digest or a "seen before" check keyed on the signature
// would be fooled. resmeter signs only with s <= n/2 and rejects s > n/2.
// Raw signatures are JWS's r||s, 48 bytes each. Pure and thread-safe.
#pragma once

#include <string>

#include "core/result.h"

namespace resmeter {

// True when the raw 96-byte ES384 signature's s is greater than n/2.
// InvalidArgument for a signature that is not 96 bytes.
Result<bool> EcdsaP384IsHighS(const std::string& raw_signature);
// Returns the raw signature with s replaced by n - s when s > n/2 (unchanged otherwise).
Result<std::string> EcdsaP384ToLowS(const std::string& raw_signature);

}  // namespace resmeter
