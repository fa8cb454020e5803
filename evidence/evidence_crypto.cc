#include "evidence/evidence_crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>

namespace resmeter {

Result<std::vector<X509Ptr>> ParseCertificates(std::string_view bytes, std::string_view what) {
  std::vector<X509Ptr> certs;
  if (bytes.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    BIO* bio = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) certs.emplace_back(cert);
    BIO_free(bio);
    ERR_clear_error();  // the loop ends on a "no start line" error
  } else {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()));
    if (cert != nullptr) certs.emplace_back(cert);
    if (cert != nullptr && p != reinterpret_cast<const unsigned char*>(bytes.data()) + bytes.size()) {
      return Status::Corruption(std::string(what) + ": trailing bytes after the DER certificate");
    }
  }
  if (certs.empty()) {
    return Status::Corruption(std::string(what) + ": no certificate (PEM or DER): " + OpenSslError());
  }
  return certs;
}

std::string CertificateDer(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string CertificateCommonName(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

Status VerifyCertificateChain(X509* leaf, const std::vector<X509*>& intermediates, X509* root,
                              std::optional<time_t> at) {
  if (X509_check_issued(root, root) != X509_V_OK) {
    return Status::VerifyFailed("root '" + CertificateCommonName(root) + "' is not self-issued");
  }
  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx || X509_STORE_add_cert(store.get(), root) != 1) {
    return Status::VerifyFailed("chain setup: " + OpenSslError());
  }
  for (X509* cert : intermediates) sk_X509_push(untrusted.get(), cert);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
    return Status::VerifyFailed("chain setup: " + OpenSslError());
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // The root's self-signature is checked too (OpenSSL skips it by default).
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CHECK_SS_SIGNATURE);
  if (at) X509_VERIFY_PARAM_set_time(param, *at);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    ERR_clear_error();
    return Status::VerifyFailed(std::string(X509_verify_cert_error_string(err)) + " at depth " +
                                std::to_string(depth) + " ('" + (bad ? CertificateCommonName(bad) : "") + "')");
  }
  return Status::Ok();
}

Status VerifyEcdsaRaw(EVP_PKEY* key, const EVP_MD* md, std::string_view message, std::string_view r_be,
                      std::string_view s_be) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(r_be.data()), static_cast<int>(r_be.size()), nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(s_be.data()), static_cast<int>(s_be.size()), nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return Status::VerifyFailed("signature encoding: " + OpenSslError());
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (der_len <= 0) return Status::VerifyFailed("signature encoding: " + OpenSslError());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  int rc = -1;
  if (ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key) == 1) {
    rc = EVP_DigestVerify(ctx, der, static_cast<size_t>(der_len),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size());
  }
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  if (rc != 1) {
    ERR_clear_error();
    return Status::VerifyFailed("ECDSA signature does not verify");
  }
  return Status::Ok();
}

Result<EvpPkeyPtr> EcPublicKeyFromXY(const char* curve, std::string_view x, std::string_view y) {
  std::string point = "\x04";
  point.append(x);
  point.append(y);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  bool ok = ctx != nullptr && params != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  if (!ok) return Status::Corruption(std::string("EC public key on ") + curve + ": " + OpenSslError());
  EvpPkeyPtr owned(key);
  // fromdata does not always validate the point; do it explicitly.
  EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
  int valid = check != nullptr ? EVP_PKEY_public_check(check) : 0;
  EVP_PKEY_CTX_free(check);
  if (valid != 1) {
    ERR_clear_error();
    return Status::Corruption(std::string("EC public key is not a point on ") + curve);
  }
  return owned;
}

std::string ReverseBytes(std::string_view bytes) { return std::string(bytes.rbegin(), bytes.rend()); }

}  // namespace resmeter
