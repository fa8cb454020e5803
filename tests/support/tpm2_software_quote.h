// Test helpers for TPM AK certification: throw-away EC keys and X.509
// certificates minted with OpenSSL, and TPM 2.0 "quotes" made entirely in
// software: a TPMS_ATTEST signed by an OpenSSL key whose public area carries
// the attributes of a TPM-resident restricted signing key (the forgery that
// AK certification must stop). Header-only so unit and integration tests
// share it without build changes. Not thread-safe; each test makes its own.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "core/strings.h"
#include "evidence/evidence.h"
#include "evidence/evidence_crypto.h"
#include "evidence/tpm2_ak_template.h"
#include "evidence/tpm2_quote_verifier.h"

namespace resmeter::testing {

// A fresh ECDSA P-256 key.
inline EvpPkeyPtr NewP256Key() { return EvpPkeyPtr(EVP_EC_gen("P-256")); }

// Adds one X.509v3 extension given in openssl config syntax ("critical,CA:TRUE").
inline void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Mints a certificate for `key` named CN=`cn`, signed by `issuer_key` under
// `issuer` (nullptr: self-signed), valid from now+`from_s` to now+`to_s`.
// `ca` sets basicConstraints CA:TRUE and keyUsage keyCertSign,cRLSign; else
// CA:FALSE and `leaf_usage` (e.g. "critical,digitalSignature"; "" for none).
inline X509Ptr MintCert(EVP_PKEY* key, const std::string& cn, EVP_PKEY* issuer_key, X509* issuer, bool ca,
                        long from_s = -3600, long to_s = 86400,
                        const char* leaf_usage = "critical,digitalSignature") {
  static long serial = 1000;
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), from_s);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), to_s);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* issuer_cert = issuer ? issuer : cert.get();
  AddExtension(cert.get(), issuer_cert, NID_subject_key_identifier,
               "hash");  // swtpm_localca needs it on its CA
  if (issuer) AddExtension(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid:always");
  AddExtension(cert.get(), issuer_cert, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (ca) {
    AddExtension(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else if (leaf_usage[0] != '\0') {
    AddExtension(cert.get(), issuer_cert, NID_key_usage, leaf_usage);
  }
  X509_sign(cert.get(), issuer_key, EVP_sha256());
  return cert;
}

// A certificate as PEM text.
inline std::string CertPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

// A private key as PEM text (for openssl command lines).
inline std::string KeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

// The marshaled TPM2B_PUBLIC of a P-256 key with TPM-resident attributes
// (fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign),
// exactly what resmeter's collector emits for a real AK.
inline std::string SoftwareAkPublic(EVP_PKEY* key) {
  TPM2B_PUBLIC pub = {};
  pub.publicArea = ResmeterAkPublicTemplate();
  TPMT_PUBLIC& p = pub.publicArea;
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x);
  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
  p.unique.ecc.x.size = p.unique.ecc.y.size = 32;
  BN_bn2binpad(x, p.unique.ecc.x.buffer, 32);
  BN_bn2binpad(y, p.unique.ecc.y.buffer, 32);
  BN_free(x);
  BN_free(y);
  uint8_t buf[sizeof(TPM2B_PUBLIC)];
  size_t off = 0;
  Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, buf, sizeof buf, &off);
  return std::string(reinterpret_cast<char*>(buf), off);
}

// tpm2 evidence JSON (as the collector writes it, without certificates) for a
// quote over PCRs 0..2 (sha256) with qualifying data `user_data`, signed in
// software by `key`: every check but ak_certificate passes on it.
inline nlohmann::json SoftwareQuoteEvidence(EVP_PKEY* key, const std::string& user_data) {
  TPMS_ATTEST att = {};
  att.magic = TPM2_GENERATED_VALUE;
  att.type = TPM2_ST_ATTEST_QUOTE;
  att.extraData.size = static_cast<UINT16>(user_data.size());
  std::memcpy(att.extraData.buffer, user_data.data(), user_data.size());
  TPML_PCR_SELECTION& sel = att.attested.quote.pcrSelect;
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[0] = 0x07;
  std::string concat;
  nlohmann::json pcrs = nlohmann::json::object();
  for (int i = 0; i < 3; ++i) {
    std::string value(32, static_cast<char>(0x11 * (i + 1)));
    concat += value;
    pcrs[std::to_string(i)] = HexEncode(value);
  }
  att.attested.quote.pcrDigest.size = 32;
  SHA256(reinterpret_cast<const unsigned char*>(concat.data()), concat.size(),
         att.attested.quote.pcrDigest.buffer);
  uint8_t buf[sizeof(TPMS_ATTEST) + 64];
  size_t off = 0;
  Tss2_MU_TPMS_ATTEST_Marshal(&att, buf, sizeof buf, &off);
  std::string attest(reinterpret_cast<char*>(buf), off);

  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char der[128];
  size_t der_len = sizeof der;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, der, &der_len, reinterpret_cast<const unsigned char*>(attest.data()), attest.size());
  EVP_MD_CTX_free(ctx);
  const unsigned char* p = der;
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
  TPMT_SIGNATURE sig = {};
  sig.sigAlg = TPM2_ALG_ECDSA;
  sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
  sig.signature.ecdsa.signatureR.size = sig.signature.ecdsa.signatureS.size = 32;
  BN_bn2binpad(ECDSA_SIG_get0_r(es), sig.signature.ecdsa.signatureR.buffer, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(es), sig.signature.ecdsa.signatureS.buffer, 32);
  ECDSA_SIG_free(es);
  off = 0;
  Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, buf, sizeof buf, &off);
  std::string signature(reinterpret_cast<char*>(buf), off);
  std::string ak_public = SoftwareAkPublic(key);
  return {{"type", "tpm2"},
          {"user_data", HexEncode(user_data)},
          {"qualifying_data", "user_data"},
          {"attest", Base64Encode(attest)},
          {"signature", Base64Encode(signature)},
          {"ak_public", Base64Encode(ak_public)},
          {"ak_pem", Tpm2AkPem(ak_public).ok() ? *Tpm2AkPem(ak_public) : std::string()},
          {"pcr_bank", "sha256"},
          {"pcrs", pcrs}};
}

}  // namespace resmeter::testing
