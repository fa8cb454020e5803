#include "evidence/tpm2_ak_certificate.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/strings.h"
#include "evidence/evidence.h"
#include "evidence/evidence_crypto.h"

namespace resmeter {
namespace {


// A name as one RFC 2253 line ("CN=..,O=..").
std::string NameLine(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(std::max(0L, len)));
  BIO_free(bio);
  return out;
}

// An ASN.1 time as "YYYY-MM-DDTHH:MM:SSZ".
std::string TimeLine(const ASN1_TIME* t) {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Parses one DER certificate that must span all of `der`.
Result<X509Ptr> ParseDer(const std::string& der, const std::string& what) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr) return Status::Corruption(what + " is not a DER certificate: " + OpenSslError());
  X509Ptr out(cert);
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return Status::Corruption(what + " has trailing bytes after the DER certificate");
  }
  return out;
}

// Hex SHA-256 of a key's SubjectPublicKeyInfo (for messages).
std::string KeyFingerprint(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return "?";
  std::string spki(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return HexEncode(Sha256(spki));
}

}  // namespace

Result<Tpm2AkTrust> LoadTpm2AkTrust(const std::string& trust_anchors_dir, std::optional<time_t> at) {
  Tpm2AkTrust trust;
  trust.anchors_dir = trust_anchors_dir + "/tpm2";
  trust.at = at;
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(trust.anchors_dir, ec)) {
    if (EndsWith(entry.path().filename().string(), ".pem")) paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());  // a missing directory (ec set) leaves no CAs
  for (const std::string& p : paths) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    if (!f) return Status::IOError("trust anchors: cannot read " + p);
    RESMETER_RETURN_IF_ERROR(ParseCertificates(ss.str(), "trust anchor " + p).status());
    if (ss.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return Status::Corruption("trust anchor " + p + ": not a PEM certificate");
    }
    trust.ca_pems.push_back(ss.str());
  }
  return trust;
}

Result<std::vector<std::string>> CertificatesToDer(std::string_view bytes, std::string_view what) {
  RESMETER_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ParseCertificates(bytes, what));
  std::vector<std::string> out;
  for (const X509Ptr& c : certs) out.push_back(CertificateDer(c.get()));
  return out;
}

Status VerifyAkCertificate(const Tpm2AkTrust& trust, const std::string& ak_cert_der,
                           const std::vector<std::string>& chain_der, EVP_PKEY* ak, nlohmann::json* fields) {
  if (trust.ca_pems.empty()) {
    return Status::VerifyFailed("no trusted TPM CA in " + trust.anchors_dir +
                                " (see README \"TPM 2.0 evidence\")");
  }
  if (ak_cert_der.empty()) {
    return Status::VerifyFailed(
        "the evidence has no ak_cert: nothing ties the AK to a TPM (a software key can carry TPM "
        "attributes)");
  }
  // Malformed bytes were refused when the evidence was read; a failure here is corruption all the same.
  RESMETER_ASSIGN_OR_RETURN(X509Ptr leaf, ParseDer(ak_cert_der, "ak_cert"));
  std::vector<X509Ptr> chain;
  for (size_t i = 0; i < chain_der.size(); ++i) {
    RESMETER_ASSIGN_OR_RETURN(X509Ptr c, ParseDer(chain_der[i], "ak_chain[" + std::to_string(i) + "]"));
    chain.push_back(std::move(c));
  }
  EVP_PKEY* leaf_key = X509_get0_pubkey(leaf.get());
  if (leaf_key == nullptr || EVP_PKEY_eq(leaf_key, ak) != 1) {
    ClearOpenSslErrors();
    return Status::VerifyFailed("the certificate's key (sha256 " +
                                (leaf_key ? KeyFingerprint(leaf_key) : "?") + ") is not the AK (sha256 " +
                                KeyFingerprint(ak) + ")");
  }

  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return Status::VerifyFailed("chain setup: " + OpenSslError());
  std::vector<X509Ptr> cas;
  for (const std::string& pem : trust.ca_pems) {
    RESMETER_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ParseCertificates(pem, "trust anchor"));
    for (X509Ptr& c : certs) {
      if (X509_STORE_add_cert(store.get(), c.get()) != 1) ClearOpenSslErrors();  // a duplicate is harmless
      cas.push_back(std::move(c));
    }
  }
  for (const X509Ptr& c : chain) sk_X509_push(untrusted.get(), c.get());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    return Status::VerifyFailed("chain setup: " + OpenSslError());
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // A buyer may trust an intermediate CA (a cloud's AK CA) without its root.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_CHECK_SS_SIGNATURE);
  if (trust.at) X509_VERIFY_PARAM_set_time(param, *trust.at);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    ClearOpenSslErrors();
    return Status::VerifyFailed("not certified by a trusted TPM CA in " + trust.anchors_dir + ": " +
                                X509_verify_cert_error_string(err) + " at depth " + std::to_string(depth) +
                                " (" + (bad ? NameLine(X509_get_subject_name(bad)) : std::string("?")) + ")");
  }
  STACK_OF(X509)* verified = X509_STORE_CTX_get0_chain(ctx.get());
  const int n = sk_X509_num(verified);
  // OpenSSL enforces CA:TRUE on issuers already; the explicit checks keep the contract visible.
  for (int i = 1; i < n; ++i) {
    X509* issuer = sk_X509_value(verified, i);
    if (X509_check_ca(issuer) != 1) {
      return Status::VerifyFailed("issuer " + NameLine(X509_get_subject_name(issuer)) +
                                  " is not a CA (needs basicConstraints CA:TRUE and keyCertSign)");
    }
  }
  const uint32_t flags = X509_get_extension_flags(leaf.get());
  if ((flags & EXFLAG_CA) != 0) return Status::VerifyFailed("the AK certificate is a CA certificate");
  if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(leaf.get()) & KU_DIGITAL_SIGNATURE) == 0) {
    return Status::VerifyFailed("the AK certificate's key usage lacks digitalSignature");
  }
  (*fields)["ak_cert_subject"] = NameLine(X509_get_subject_name(leaf.get()));
  (*fields)["ak_cert_issuer"] = NameLine(X509_get_issuer_name(leaf.get()));
  (*fields)["ak_cert_not_after"] = TimeLine(X509_get0_notAfter(leaf.get()));
  (*fields)["ak_ca"] = NameLine(X509_get_subject_name(sk_X509_value(verified, n - 1)));
  return Status::Ok();
}

Status AttachAkCertificate(nlohmann::json* evidence, std::string_view cert_bytes,
                           std::string_view chain_bytes) {
  RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> certs, CertificatesToDer(cert_bytes, "AK certificate"));
  std::vector<std::string> chain(certs.begin() + 1, certs.end());
  if (!chain_bytes.empty()) {
    RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> more, CertificatesToDer(chain_bytes, "AK chain"));
    chain.insert(chain.end(), more.begin(), more.end());
  }
  (*evidence)["ak_cert"] = Base64Encode(certs[0]);
  if (!chain.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const std::string& der : chain) list.push_back(Base64Encode(der));
    (*evidence)["ak_chain"] = list;
  } else {
    evidence->erase("ak_chain");
  }
  return Status::Ok();
}

}  // namespace resmeter
