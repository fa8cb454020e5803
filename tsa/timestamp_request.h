// TimestampRequest: an RFC 3161 TimeStampReq for a SHA-256 imprint, with a
// fresh random 64-bit nonce and certReq set (the reply then carries the TSA's
// certificate, which the offline verifier needs). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace resmeter {

struct TimestampRequest {
  std::string der;        // DER TimeStampReq, the HTTP body
  std::string nonce_hex;  // the nonce sent, lowercase hex as tsa/timestamp_token.h prints it
};

// REQUIRES: sha256 is 32 raw bytes. InvalidArgument otherwise.
Result<TimestampRequest> MakeTimestampRequest(std::string_view sha256);

// As above with a caller-chosen nonce (1..8 raw bytes, first byte non-zero;
// tests and reproducible seeds).
Result<TimestampRequest> MakeTimestampRequestWithNonce(std::string_view sha256, std::string_view nonce);

}  // namespace resmeter
