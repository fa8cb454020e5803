// VerifyTimestampToken: the offline check of an RFC 3161 token that a buyer
// runs (ledger audit, verify). In this order, the first failure is reported:
//   imprint   the token stamps the expected SHA-256 (algorithm and bytes)
//   nonce     the token carries the nonce the agent said it sent
//   chain     the signer's certificate chains to a TSA anchor, with the
//             timeStamping purpose, every certificate valid at genTime
//   signature the CMS signature verifies, and the ESS signing-certificate
//             attribute names the signer certificate (OpenSSL TS_RESP_verify_token)
// Failures are VerifyFailed("<check>: why"); a token that does not parse is
// Corruption. Revocation (CRL, OCSP) is not checked. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tsa/timestamp_token.h"
#include "tsa/tsa_anchors.h"

namespace resmeter {

struct TimestampExpectation {
  std::string sha256;     // raw 32 bytes the token must stamp
  std::string nonce_hex;  // the nonce the requester sent; "" skips the nonce check
};

struct VerifiedTimestamp {
  TimestampTokenInfo info;
  std::string signer_subject;  // the TSA certificate's subject (RFC 2253)
};

Result<VerifiedTimestamp> VerifyTimestampToken(std::string_view der, const TimestampExpectation& expect,
                                               const TsaAnchors& anchors);

// True when a policy's list of TSAs names this signer: its CN or its whole
// RFC 2253 subject is listed. An empty list names no one.
bool TsaSignerListed(const std::string& signer_subject, const std::vector<std::string>& names);

}  // namespace resmeter
