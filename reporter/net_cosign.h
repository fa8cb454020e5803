// Verification of the co-signed network measurements that the net.*
// meters put in a report: each target entry carries the peer's JWK, the
// peer's JWS and this agent's JWS over one canonical summary (see
// meters/net_protocol.h). A buyer checks both signatures and that the
// claimed numbers are the ones both agents signed.
//
// Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "reporter/jwk.h"

namespace resmeter {

// Checks one entry of submods["net.throughput" | "net.latency"].claims.targets:
// the peer's signature with peer_jwk (whose thumbprint must be
// peer_thumbprint), the agent's signature with `agent_key`, that both sign
// the same payload, that the summary names both keys, and that the entry's
// numbers equal the summary's. Returns the signed summary, or VerifyFailed /
// Corruption naming the first check that did not hold.
Result<nlohmann::json> VerifyNetCosignature(const nlohmann::json& target_entry, const PublicKey& agent_key);

}  // namespace resmeter
