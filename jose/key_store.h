// Key lifecycle. Agent keys (`resmeter agent`, `probe`, `identity`) are
// ephemeral: generated in memory at each process start, never written to
// disk, never read from it (key_origin "ephemeral"); a key file found in the
// state directory is ignored. Only the buyer-run network peer (`resmeter
// peer`) keeps a persistent key in <state_dir>/signing_key.pem (`key init`,
// key_origin "file"), pinned by thumbprint by the buyers it serves.
// The running agent publishes its identity document (public) in
// <state_dir>/identity.json. Directories are created with mode 0700 and
// opened as core/safe_dir.h says (a symlinked, group/other-writable or
// foreign-owned state directory is refused); files in them are opened with
// openat(O_NOFOLLOW). Functions are thread-safe.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/result.h"
#include "jose/signing_key.h"

namespace resmeter {

inline constexpr const char* kSigningKeyFile = "signing_key.pem";
inline constexpr const char* kIdentityDocumentFile = "identity.json";

// <state_dir>/signing_key.pem: the network peer's persistent key.
std::string SigningKeyPath(const std::string& state_dir);
// <state_dir>/identity.json: the running agent's identity document.
std::string IdentityDocumentPath(const std::string& state_dir);
// Creates the state directory (0700) and a new peer key there. Fails if one exists.
Result<std::shared_ptr<SigningKey>> InitSigningKey(const std::string& state_dir,
                                                   const std::string& algorithm);
// Loads the peer's key (see SigningKey::LoadFromFile for the errors; also
// SafeDir::Open's for an unsafe state directory).
Result<std::shared_ptr<SigningKey>> LoadSigningKey(const std::string& state_dir);
// A fresh in-memory agent key. `ignored_key_file` is set to the path of a key
// file present in the state directory (which is never read), for a warning.
Result<std::shared_ptr<SigningKey>> GenerateEphemeralKey(const std::string& state_dir,
                                                         const std::string& algorithm,
                                                         std::optional<std::string>* ignored_key_file);
// {"jwk","kid","alg","iat","key_origin","evidence","nonce"?}: the public
// identity document of `key` with evidence bound to SHA-512(kid || nonce).
nlohmann::json BuildIdentityDocument(const SigningKey& key, const std::string& key_origin,
                                     const nlohmann::json& evidence, double iat_unix_seconds,
                                     const std::string& nonce_hex);

}  // namespace resmeter
