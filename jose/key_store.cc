#include "jose/key_store.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "core/safe_dir.h"

namespace resmeter {

std::string SigningKeyPath(const std::string& state_dir) { return state_dir + "/" + kSigningKeyFile; }

std::string IdentityDocumentPath(const std::string& state_dir) {
  return state_dir + "/" + kIdentityDocumentFile;
}

Result<std::shared_ptr<SigningKey>> InitSigningKey(const std::string& state_dir,
                                                   const std::string& algorithm) {
  RESMETER_ASSIGN_OR_RETURN(SafeDir dir, SafeDir::Open(state_dir, 0700));
  RESMETER_ASSIGN_OR_RETURN(auto key, SigningKey::Generate(algorithm));
  auto file = dir.OpenFileAt(kSigningKeyFile, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (!file.ok()) {
    if (file.status().code() == Status::Code::kInvalidArgument)
      return Status::InvalidArgument("key file " + dir.PathOf(kSigningKeyFile) +
                                     " already exists; not overwriting it");
    return file.status().WithContext("key file");
  }
  Status saved = key->SaveToFd(file->release(), dir.PathOf(kSigningKeyFile));
  if (!saved.ok()) {
    (void)dir.UnlinkAt(kSigningKeyFile);
    return saved;
  }
  RESMETER_RETURN_IF_ERROR(dir.Sync());
  return key;
}

Result<std::shared_ptr<SigningKey>> LoadSigningKey(const std::string& state_dir) {
  const std::string path = SigningKeyPath(state_dir);
  auto missing = [&] {
    return Status::NotFound("key file " + path + " does not exist (run `resmeter key init`)");
  };
  auto dir = SafeDir::Open(state_dir, 0);
  if (!dir.ok()) return dir.status().code() == Status::Code::kNotFound ? missing() : dir.status();
  auto file = dir->OpenFileAt(kSigningKeyFile, O_RDONLY);
  if (!file.ok()) return file.status().code() == Status::Code::kNotFound ? missing() : file.status();
  return SigningKey::LoadFromFd(file->release(), path);
}

Result<std::shared_ptr<SigningKey>> GenerateEphemeralKey(const std::string& state_dir,
                                                         const std::string& algorithm,
                                                         std::optional<std::string>* ignored_key_file) {
  struct stat st;
  if (ignored_key_file && ::lstat(SigningKeyPath(state_dir).c_str(), &st) == 0)
    *ignored_key_file = SigningKeyPath(state_dir);
  return SigningKey::Generate(algorithm);
}

nlohmann::json BuildIdentityDocument(const SigningKey& key, const std::string& key_origin,
                                     const nlohmann::json& evidence, double iat_unix_seconds,
                                     const std::string& nonce_hex) {
  nlohmann::json doc = {{"jwk", key.PublicJwk()},   {"kid", key.Thumbprint()},
                        {"alg", key.algorithm()},   {"iat", static_cast<int64_t>(iat_unix_seconds)},
                        {"key_origin", key_origin}, {"evidence", evidence}};
  if (!nonce_hex.empty()) doc["nonce"] = nonce_hex;
  return doc;
}

}  // namespace resmeter
