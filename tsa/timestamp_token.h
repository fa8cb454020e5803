// TimestampToken: what an RFC 3161 time-stamp token (a CMS SignedData whose
// content is a TSTInfo) says, parsed from untrusted DER without checking its
// signature (tsa/timestamp_verifier.h does that). Also unwraps a
// TimeStampResp (the HTTP reply of a TSA) into its token.
//
// A token proves, once verified, only this: the TSA saw this hash at its
// genTime. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace resmeter {

// Largest token or reply accepted (hostile input bound; real tokens with a
// certificate chain are a few KiB).
inline constexpr size_t kMaxTimestampTokenBytes = 64 * 1024;

struct TimestampTokenInfo {
  double gen_time_unix_seconds = 0;  // genTime, fractions kept
  std::string gen_time_text;         // genTime as the token wrote it (GeneralizedTime)
  std::string imprint_algorithm;     // e.g. "SHA256" (OpenSSL short name)
  std::string imprint;               // the hashed message, raw bytes
  std::string nonce_hex;             // lowercase hex of the nonce's magnitude, "" when absent
  std::string serial_hex;            // serialNumber, hex
  std::string policy_oid;            // the TSA policy, dotted
  double accuracy_seconds = -1;      // -1 when the token states none
  std::string tsa_name;              // the optional tsa GeneralName, as text ("" when absent)
};

// Parses a DER TimeStampToken (ContentInfo). Corruption naming what is wrong.
Result<TimestampTokenInfo> ParseTimestampToken(std::string_view der);

// Unwraps a DER TimeStampResp: InvalidArgument/VerifyFailed with the TSA's
// status and text when it did not grant; Corruption when it does not parse.
// Returns the token's DER.
Result<std::string> TimestampTokenFromResponse(std::string_view der);

// Lowercase hex of bytes.
std::string TsaHex(std::string_view bytes);

}  // namespace resmeter
