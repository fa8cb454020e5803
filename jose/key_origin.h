// Where an agent's signing key came from, as its identity document and its
// reports state it (`key_origin`). A verifier accepts only the origins its
// policy lists (default: ephemeral). See README "Security model".
#pragma once

#include <string_view>

namespace resmeter {

// Generated in memory by the agent process at start, never written to disk;
// each start is a new key epoch in the ledger.
inline constexpr std::string_view kKeyOriginEphemeral = "ephemeral";
// A persistent key from a file in the state directory. Only a buyer-run
// network peer uses one (its key is pinned by thumbprint); never accepted
// for an agent's reports or ledger.
inline constexpr std::string_view kKeyOriginFile = "file";

}  // namespace resmeter
