// Verification of the co-signed network measurements that the net.*
// meters put in a report: each target entry carries the peer's JWK, the
// peer's JWS and this agent's JWS over one canonical summary (see
// peer/net_protocol.h). A buyer checks both signatures and that the
// claimed numbers are the ones both agents signed.
//
// Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "jose/jwk.h"

namespace resmeter {

// Checks one entry of submods["net.throughput" | "net.latency"].claims.targets:
// the peer's signature with peer_jwk (whose thumbprint must be
// peer_thumbprint), the agent's signature with `agent_key`, that both sign
// the same payload, that the summary names both keys, and that the entry's
// numbers equal the summary's. Returns the signed summary, or VerifyFailed /
// Corruption naming the first check that did not hold.
Result<nlohmann::json> VerifyNetCosignature(const nlohmann::json& target_entry, const PublicKey& agent_key);

// One co-signed target of a report, checked.
struct NetCosignCheck {
  std::string meter;   // "net.throughput" or "net.latency"
  std::string target;  // host:port as configured
  bool passed = false;
  std::string detail;  // "peer <thumbprint> and agent signatures hold", or why not
};

// Checks every target entry with status "ok" in the report's net.* submods
// (failed targets carry no numbers to check). Empty when the report has none.
std::vector<NetCosignCheck> VerifyReportNetCosignatures(const nlohmann::json& claims,
                                                        const PublicKey& agent_key);

// Checks the co-signed entries a net.* policy clause reads from
// submods[meter].claims.targets: each entry with status "ok" (only those with
// peer_thumbprint `peer_kid`, or every one when it is empty) must hold under
// VerifyNetCosignature and be co-signed by a key whose thumbprint is in
// `accepted_kids` (the peers the buyer chose). The peer_jwk a report carries
// proves nothing by itself: the agent picks it. OK, or VerifyFailed naming
// the target and the key. A meter or target list that is absent is OK here
// (the clause then fails on the missing value).
Status CheckAcceptedNetPeers(const nlohmann::json& submods, const std::string& meter,
                             const std::string& peer_kid, const std::vector<std::string>& accepted_kids,
                             const PublicKey& agent_key);

}  // namespace resmeter
