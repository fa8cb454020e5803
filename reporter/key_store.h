// Where the agent keeps its signing key inside the state directory, and the
// life cycle `key init` / load. The directory is created with mode 0700.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "reporter/signing_key.h"

namespace resmeter {

// <state_dir>/signing_key.pem
std::string SigningKeyPath(const std::string& state_dir);
// Creates the state directory (0700) and a new key there. Fails if one exists.
Result<std::shared_ptr<SigningKey>> InitSigningKey(const std::string& state_dir, const std::string& algorithm);
// Loads the existing key (see SigningKey::LoadFromFile for the errors).
Result<std::shared_ptr<SigningKey>> LoadSigningKey(const std::string& state_dir);
// Creates a directory and its parents with the given mode for the last one.
Status MakeDirectories(const std::string& path, unsigned mode);

}  // namespace resmeter
