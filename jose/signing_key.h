// SigningKey: the agent's private key (Ed25519 by default, ES384 optional),
// generated inside the VM and kept in the state directory with mode 0600.
//
// It implements Signer, so services and meters can sign without seeing the
// key. Immutable after creation; Sign* are safe to call from several threads.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "core/signer.h"
#include "jose/jwk.h"

namespace resmeter {

class SigningKey final : public Signer {
 public:
  // Generates a fresh key for "EdDSA" or "ES384".
  static Result<std::shared_ptr<SigningKey>> Generate(const std::string& algorithm);
  // Reads a PEM private key. PermissionDenied when the file is readable or
  // writable by group or others; NotFound when absent; Corruption when unparsable.
  static Result<std::shared_ptr<SigningKey>> LoadFromFile(const std::string& path);
  // As LoadFromFile, from an open descriptor (taken over and closed); `path` names it in errors.
  static Result<std::shared_ptr<SigningKey>> LoadFromFd(int fd, const std::string& path);
  // Writes the PEM private key to `fd` (a new file the caller created with
  // mode 0600; taken over and closed) and syncs it; `path` names it in errors.
  Status SaveToFd(int fd, const std::string& path) const;
  ~SigningKey() override;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  const std::string& algorithm() const { return public_key_->algorithm(); }
  const PublicKey& public_key() const { return *public_key_; }
  // Raw JWS signature over `signing_input` (64 bytes EdDSA, 96 bytes ES384).
  Result<std::string> SignRaw(const std::string& signing_input) const;

  // Signer:
  Result<std::string> SignCompact(const std::string& payload) const override;
  nlohmann::json PublicJwk() const override { return public_key_->jwk(); }
  std::string Thumbprint() const override { return public_key_->thumbprint(); }

 private:
  SigningKey() = default;
  static Result<std::shared_ptr<SigningKey>> Wrap(EVP_PKEY* pkey);
  EVP_PKEY* pkey_ = nullptr;
  std::shared_ptr<const PublicKey> public_key_;
};

}  // namespace resmeter
