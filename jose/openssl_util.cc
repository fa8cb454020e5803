#include "jose/openssl_util.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>

namespace resmeter {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

void ClearOpenSslErrors() { ERR_clear_error(); }

Result<std::string> EcdsaRawToDer(const std::string& raw) {
  if (raw.empty() || raw.size() % 2 != 0) return Status::InvalidArgument("ECDSA signature has odd length");
  const size_t half = raw.size() / 2;
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + half, static_cast<int>(half), nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (!r || !s || !sig || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return Status::Corruption("ECDSA signature: " + OpenSslError());
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return Status::Corruption("ECDSA signature: cannot encode DER");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Result<std::string> EcdsaDerToRaw(const std::string& der, size_t field_bytes) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) return Status::Corruption("ECDSA signature: bad DER");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string raw(2 * field_bytes, '\0');
  bool ok = BN_bn2binpad(r, reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(field_bytes)) > 0 &&
            BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data()) + field_bytes, static_cast<int>(field_bytes)) > 0;
  ECDSA_SIG_free(sig);
  if (!ok) return Status::Corruption("ECDSA signature: integer too large");
  return raw;
}

namespace {
std::string Digest(const EVP_MD* md, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}
}  // namespace

std::string Sha256(const std::string& data) { return Digest(EVP_sha256(), data); }
std::string Sha384(const std::string& data) { return Digest(EVP_sha384(), data); }
std::string Sha512(const std::string& data) { return Digest(EVP_sha512(), data); }

}  // namespace resmeter
