#include "jose/signing_key.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "jose/ecdsa_low_s.h"
#include "jose/jws.h"
#include "jose/openssl_util.h"

namespace resmeter {

Result<std::shared_ptr<SigningKey>> SigningKey::Wrap(EVP_PKEY* pkey) {
  std::shared_ptr<SigningKey> key(new SigningKey());
  key->pkey_ = pkey;  // takes ownership
  auto pub = PublicKey::FromEvp(pkey);
  if (!pub.ok()) return pub.status();
  key->public_key_ = *pub;
  return key;
}

Result<std::shared_ptr<SigningKey>> SigningKey::Generate(const std::string& algorithm) {
  EVP_PKEY* pkey = nullptr;
  if (algorithm == kAlgEdDSA) {
    pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  } else if (algorithm == kAlgES384) {
    pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  } else {
    return Status::InvalidArgument("unsupported signing algorithm '" + algorithm + "' (EdDSA or ES384)");
  }
  if (!pkey) return Status::IOError("key generation failed: " + OpenSslError());
  return Wrap(pkey);
}

Result<std::shared_ptr<SigningKey>> SigningKey::LoadFromFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("key file " + path + " does not exist (run `resmeter key init`)");
    return Status::FromErrno("key file " + path, errno);
  }
  return LoadFromFd(fd, path);
}

Result<std::shared_ptr<SigningKey>> SigningKey::LoadFromFd(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("key file " + path + " is not a regular file");
  }
  if (st.st_mode & 077) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return Status::PermissionDenied("key file " + path + " has mode " + mode +
                                    "; it must not be accessible by group or others (chmod 600)");
  }
  FILE* f = ::fdopen(fd, "r");
  if (!f) {
    ::close(fd);
    return Status::FromErrno("key file " + path, errno);
  }
  EVP_PKEY* pkey = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!pkey) return Status::Corruption("key file " + path + " is not a PEM private key: " + OpenSslError());
  auto key = Wrap(pkey);
  if (!key.ok()) return key.status().WithContext("key file " + path);
  return key;
}

Status SigningKey::SaveToFd(int fd, const std::string& path) const {
  FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    return Status::FromErrno("key file " + path, errno);
  }
  bool ok = PEM_write_PrivateKey(f, pkey_, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  ok = (std::fflush(f) == 0) && ok && ::fsync(fileno(f)) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return Status::IOError("key file " + path + ": write failed");
  return Status::Ok();
}

SigningKey::~SigningKey() { EVP_PKEY_free(pkey_); }

Result<std::string> SigningKey::SignRaw(const std::string& signing_input) const {
  const bool ecdsa = algorithm() == kAlgES384;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig;
  size_t len = 0;
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, ecdsa ? EVP_sha384() : nullptr, nullptr, pkey_) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(signing_input.data()),
                           signing_input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return Status::IOError("signing failed: " + OpenSslError());
  if (!ecdsa) return sig;
  // ES384: only the canonical low-S form (n - s verifies too; see jose/ecdsa_low_s.h).
  RESMETER_ASSIGN_OR_RETURN(std::string raw, EcdsaDerToRaw(sig, 48));
  return EcdsaP384ToLowS(raw);
}

Result<std::string> SigningKey::SignCompact(const std::string& payload) const {
  return JwsSign(*this, payload, nlohmann::json::object());
}

}  // namespace resmeter
