#include "snp_test_chain.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace resmeter::testing {
namespace {

// Aborts the test binary on an OpenSSL failure (tests only).
void Must(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "snp_test_chain: %s failed: %s\n", what, OpenSslError().c_str());
    std::abort();
  }
}

EvpPkeyPtr GenerateP384() {
  EVP_PKEY* key = EVP_EC_gen("P-384");
  Must(key != nullptr, "EC keygen");
  return EvpPkeyPtr(key);
}

X509_NAME* Name(const std::string& cn) {
  X509_NAME* name = X509_NAME_new();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Test AMD"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  return name;
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Must(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Adds a non-critical extension with dotted OID whose value is `der`.
void AddRawExt(X509* cert, const char* oid, const std::string& der) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(der.data()),
                        static_cast<int>(der.size()));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, data);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(obj);
}

std::string DerInt(long v) {
  ASN1_INTEGER* i = ASN1_INTEGER_new();
  ASN1_INTEGER_set(i, v);
  unsigned char* der = nullptr;
  int len = i2d_ASN1_INTEGER(i, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  ASN1_INTEGER_free(i);
  return out;
}

// Builds and signs a certificate; RSA issuers sign with RSA-PSS SHA-384.
X509Ptr MakeCert(const std::string& subject_cn, EVP_PKEY* subject_key, X509* issuer,
                 const std::string& issuer_cn, EVP_PKEY* issuer_key, bool ca, long serial,
                 const SyntheticSnpReport* tcb) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_NAME* sn = Name(subject_cn);
  X509_NAME* in = Name(issuer_cn);
  X509_set_subject_name(cert.get(), sn);
  X509_set_issuer_name(cert.get(), in);
  X509_NAME_free(sn);
  X509_NAME_free(in);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 86400);
  X509_set_pubkey(cert.get(), subject_key);
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  if (ca) {
    AddExt(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  if (tcb != nullptr) {
    AddRawExt(cert.get(), "1.3.6.1.4.1.3704.1.3.1", DerInt(tcb->boot_loader));
    AddRawExt(cert.get(), "1.3.6.1.4.1.3704.1.3.2", DerInt(tcb->tee));
    AddRawExt(cert.get(), "1.3.6.1.4.1.3704.1.3.3", DerInt(tcb->snp));
    AddRawExt(cert.get(), "1.3.6.1.4.1.3704.1.3.8", DerInt(tcb->microcode));
    AddRawExt(cert.get(), "1.3.6.1.4.1.3704.1.4", std::string("\x04\x40", 2) + tcb->chip_id);
  }
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  Must(EVP_DigestSignInit(md, &pctx, EVP_sha384(), nullptr, issuer_key) == 1, "sign init");
  if (EVP_PKEY_get_base_id(issuer_key) == EVP_PKEY_RSA) {
    Must(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1, "pss padding");
    Must(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) == 1, "pss salt");
    Must(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1, "pss mgf1");
  }
  Must(X509_sign_ctx(cert.get(), md) > 0, "X509_sign_ctx");
  EVP_MD_CTX_free(md);
  return cert;
}

std::string Pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

void PutLe(std::string& b, size_t off, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[off + i] = static_cast<char>(v >> (8 * i));
}

}  // namespace

SnpTestChain::SnpTestChain(const std::string& tag)
    : ark_key_(GenerateP384()), ask_key_(GenerateP384()), vcek_key_(GenerateP384()) {
  SyntheticSnpReport defaults;
  ark_ = MakeCert("ARK-" + tag, ark_key_.get(), nullptr, "ARK-" + tag, ark_key_.get(), true, 1, nullptr);
  ask_ = MakeCert("SEV-" + tag, ask_key_.get(), ark_.get(), "ARK-" + tag, ark_key_.get(), true, 2, nullptr);
  vcek_ =
      MakeCert("SEV-VCEK", vcek_key_.get(), ask_.get(), "SEV-" + tag, ask_key_.get(), false, 3, &defaults);
}

std::string SnpTestChain::ChainPem() const { return Pem(ask_.get()) + Pem(ark_.get()); }
std::string SnpTestChain::VcekDer() const { return CertificateDer(vcek_.get()); }
std::string SnpTestChain::VcekPem() const { return Pem(vcek_.get()); }

std::string SnpTestChain::SignReport(const SyntheticSnpReport& f) const {
  std::string b(1184, '\0');
  PutLe(b, 0x000, 2, 4);  // version
  PutLe(b, 0x004, 1, 4);  // guest_svn
  PutLe(b, 0x008, f.policy, 8);
  PutLe(b, 0x030, f.vmpl, 4);
  PutLe(b, 0x034, 1, 4);  // ECDSA P-384 SHA-384
  uint64_t tcb = static_cast<uint64_t>(f.boot_loader) | static_cast<uint64_t>(f.tee) << 8 |
                 static_cast<uint64_t>(f.snp) << 48 | static_cast<uint64_t>(f.microcode) << 56;
  PutLe(b, 0x038, tcb, 8);
  PutLe(b, 0x180, tcb, 8);
  PutLe(b, 0x1E0, tcb, 8);
  PutLe(b, 0x1F0, tcb, 8);
  b.replace(0x050, 64, f.report_data.substr(0, 64));
  b.replace(0x090, 48, f.measurement.substr(0, 48));
  b.replace(0x1A0, 64, f.chip_id.substr(0, 64));
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  Must(EVP_DigestSignInit(md, nullptr, EVP_sha384(), nullptr, vcek_key_.get()) == 1, "report sign init");
  size_t len = 0;
  Must(EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(b.data()), 0x2A0) == 1,
       "size");
  std::string der(len, '\0');
  Must(EVP_DigestSign(md, reinterpret_cast<unsigned char*>(der.data()), &len,
                      reinterpret_cast<const unsigned char*>(b.data()), 0x2A0) == 1,
       "report sign");
  EVP_MD_CTX_free(md);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
  Must(sig != nullptr, "decode signature");
  unsigned char r[72] = {0}, s[72] = {0};
  BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), r, sizeof(r));
  BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), s, sizeof(s));
  ECDSA_SIG_free(sig);
  b.replace(0x2A0, 72, reinterpret_cast<char*>(r), 72);
  b.replace(0x2E8, 72, reinterpret_cast<char*>(s), 72);
  return b;
}

std::string SnpTestChain::CertTable() const {
  static const unsigned char kVcekGuid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                              0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
  std::string vcek = VcekDer();
  std::string table(48, '\0');  // one entry + the terminating zero entry
  table.replace(0, 16, reinterpret_cast<const char*>(kVcekGuid), 16);
  PutLe(table, 16, table.size(), 4);
  PutLe(table, 20, vcek.size(), 4);
  return table + vcek;
}

}  // namespace resmeter::testing
