#include "jose/jwk.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "core/base64url.h"
#include "jose/ecdsa_low_s.h"
#include "jose/openssl_util.h"

namespace resmeter {
namespace {

constexpr size_t kP384FieldBytes = 48;

Result<std::string> MemberBytes(const nlohmann::json& jwk, const char* name, size_t expected) {
  if (!jwk.contains(name) || !jwk[name].is_string()) {
    return Status::InvalidArgument(std::string("JWK: member '") + name + "' missing or not a string");
  }
  auto bytes = Base64UrlDecode(jwk[name].get<std::string>());
  if (!bytes || bytes->size() != expected) {
    return Status::InvalidArgument(std::string("JWK: member '") + name + "' is not " + std::to_string(expected) +
                                   " base64url bytes");
  }
  return *bytes;
}

std::string MemberString(const nlohmann::json& jwk, const char* name) {
  return jwk.contains(name) && jwk[name].is_string() ? jwk[name].get<std::string>() : "";
}

}  // namespace

Result<std::string> JwkThumbprint(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return Status::InvalidArgument("JWK: not a JSON object");
  const std::string kty = MemberString(jwk, "kty");
  // Members in lexicographic order, as RFC 7638 section 3.2 requires.
  nlohmann::ordered_json required;
  if (kty == "OKP") {
    required["crv"] = MemberString(jwk, "crv");
    required["kty"] = kty;
    required["x"] = MemberString(jwk, "x");
  } else if (kty == "EC") {
    required["crv"] = MemberString(jwk, "crv");
    required["kty"] = kty;
    required["x"] = MemberString(jwk, "x");
    required["y"] = MemberString(jwk, "y");
  } else {
    return Status::InvalidArgument("JWK: unsupported kty '" + kty + "'");
  }
  const std::string canonical = required.dump();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

Result<std::shared_ptr<const PublicKey>> PublicKey::FromJwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return Status::InvalidArgument("JWK: not a JSON object");
  if (jwk.contains("d")) return Status::InvalidArgument("JWK: contains a private key ('d'); give the public key");
  const std::string kty = MemberString(jwk, "kty");
  const std::string crv = MemberString(jwk, "crv");
  EVP_PKEY* pkey = nullptr;
  if (kty == "OKP" && crv == "Ed25519") {
    RESMETER_ASSIGN_OR_RETURN(std::string x, MemberBytes(jwk, "x", 32));
    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()),
                                       x.size());
  } else if (kty == "EC" && crv == "P-384") {
    RESMETER_ASSIGN_OR_RETURN(std::string x, MemberBytes(jwk, "x", kP384FieldBytes));
    RESMETER_ASSIGN_OR_RETURN(std::string y, MemberBytes(jwk, "y", kP384FieldBytes));
    std::string point = "\x04" + x + y;
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
      pkey = nullptr;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    if (pkey) {
      // fromdata does not prove the point is on the curve; check it.
      EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
      bool on_curve = check && EVP_PKEY_public_check(check) == 1;
      EVP_PKEY_CTX_free(check);
      if (!on_curve) {
        EVP_PKEY_free(pkey);
        return Status::InvalidArgument("JWK: EC point is not on P-384");
      }
    }
  } else {
    return Status::InvalidArgument("JWK: unsupported key type kty='" + kty + "' crv='" + crv +
                                   "' (supported: OKP/Ed25519, EC/P-384)");
  }
  if (!pkey) return Status::InvalidArgument("JWK: OpenSSL rejected the key: " + OpenSslError());
  auto result = FromEvp(pkey);
  EVP_PKEY_free(pkey);
  return result;
}

Result<std::shared_ptr<const PublicKey>> PublicKey::FromEvp(EVP_PKEY* pkey) {
  std::shared_ptr<PublicKey> key(new PublicKey());
  EVP_PKEY_up_ref(pkey);
  key->pkey_ = pkey;
  nlohmann::json jwk;
  if (EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519) {
    unsigned char raw[32];
    size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1) return Status::Corruption("Ed25519 key: " + OpenSslError());
    key->alg_ = kAlgEdDSA;
    jwk = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", Base64UrlEncode(std::string_view((char*)raw, len))}};
  } else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
    char group[64] = {0};
    size_t glen = 0;
    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen);
    if (std::string(group) != "secp384r1") return Status::NotSupported(std::string("EC curve ") + group);
    BIGNUM *bx = nullptr, *by = nullptr;
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx);
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by);
    unsigned char x[kP384FieldBytes], y[kP384FieldBytes];
    bool ok = bx && by && BN_bn2binpad(bx, x, sizeof x) == (int)sizeof x && BN_bn2binpad(by, y, sizeof y) == (int)sizeof y;
    BN_free(bx);
    BN_free(by);
    if (!ok) return Status::Corruption("EC key: cannot read public point");
    key->alg_ = kAlgES384;
    jwk = {{"kty", "EC"},
           {"crv", "P-384"},
           {"x", Base64UrlEncode(std::string_view((char*)x, sizeof x))},
           {"y", Base64UrlEncode(std::string_view((char*)y, sizeof y))}};
  } else {
    return Status::NotSupported("key type is neither Ed25519 nor EC P-384");
  }
  key->jwk_ = jwk;
  RESMETER_ASSIGN_OR_RETURN(key->thumbprint_, JwkThumbprint(jwk));
  return std::shared_ptr<const PublicKey>(std::move(key));
}

PublicKey::~PublicKey() { EVP_PKEY_free(pkey_); }

Status PublicKey::Verify(const std::string& signing_input, const std::string& signature) const {
  std::string der_or_raw = signature;
  const EVP_MD* md = nullptr;
  if (alg_ == kAlgES384) {
    if (signature.size() != 2 * kP384FieldBytes) {
      return Status::VerifyFailed("bad signature: ES384 signature must be 96 bytes, got " +
                                  std::to_string(signature.size()));
    }
    auto high = EcdsaP384IsHighS(signature);  // the malleable twin (r, n - s) of a low-S signature
    if (!high.ok() || *high) return Status::VerifyFailed("bad signature: ES384 signature is not low-S (s > n/2)");
    RESMETER_ASSIGN_OR_RETURN(der_or_raw, EcdsaRawToDer(signature));
    md = EVP_sha384();
  } else if (signature.size() != 64) {
    return Status::VerifyFailed("bad signature: EdDSA signature must be 64 bytes, got " +
                                std::to_string(signature.size()));
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  int rc = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkey_);
  if (rc == 1) {
    rc = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(der_or_raw.data()), der_or_raw.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  }
  EVP_MD_CTX_free(ctx);
  ClearOpenSslErrors();
  if (rc != 1) return Status::VerifyFailed("bad signature: does not match the key " + thumbprint_);
  return Status::Ok();
}

}  // namespace resmeter
