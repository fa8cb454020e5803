#include "reporter/key_store.h"

#include <sys/stat.h>

#include <cerrno>

namespace resmeter {

std::string SigningKeyPath(const std::string& state_dir) { return state_dir + "/signing_key.pem"; }

std::string IdentityDocumentPath(const std::string& state_dir) { return state_dir + "/identity.json"; }

Status MakeDirectories(const std::string& path, unsigned mode) {
  if (path.empty()) return Status::InvalidArgument("empty directory path");
  for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    const std::string parent = path.substr(0, pos);
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST)
      return Status::FromErrno("mkdir " + parent, errno);
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return Status::FromErrno("mkdir " + path, errno);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(path + " exists and is not a directory");
  }
  return Status::Ok();
}

Result<std::shared_ptr<SigningKey>> InitSigningKey(const std::string& state_dir,
                                                   const std::string& algorithm) {
  RESMETER_RETURN_IF_ERROR(MakeDirectories(state_dir, 0700));
  RESMETER_ASSIGN_OR_RETURN(auto key, SigningKey::Generate(algorithm));
  RESMETER_RETURN_IF_ERROR(key->SaveToFile(SigningKeyPath(state_dir)));
  return key;
}

Result<std::shared_ptr<SigningKey>> LoadSigningKey(const std::string& state_dir) {
  return SigningKey::LoadFromFile(SigningKeyPath(state_dir));
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
