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
  // The private key as PEM (PKCS#8), for the key store to write
  // (reporter/key_store.h). IOError when OpenSSL fails.
  Result<std::string> PrivateKeyPem() const;
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
