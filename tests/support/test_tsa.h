// TestTsa: a throw-away time-stamping authority for tests, made with the
// OpenSSL API: a CA (EC P-256, self-signed) and a TSA certificate it issues
// (extendedKeyUsage critical timeStamping, validity chosen by the test). It
// issues RFC 3161 tokens for any imprint, nonce and genTime (TS_RESP_CTX
// with a time callback), and writes its PEM files and an `openssl ts`
// configuration so the real CLI can act as the same TSA. Test support only.
#pragma once

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <cmath>
#include <ctime>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "tsa/timestamp_request.h"
#include "tsa/timestamp_token.h"

namespace resmeter {

class TestTsa {
 public:
  struct Options {
    std::string name = "test-tsa";
    // TSA certificate validity, seconds relative to `reference`.
    long tsa_not_before_seconds = -3600;
    long tsa_not_after_seconds = 86400;
    // The time the certificates are made around (the CA: a day before to
    // ten days after); 0: now. Tests that stamp at fixed times set it.
    time_t reference = 0;
  };

  TestTsa() : TestTsa(Options{}) {}
  explicit TestTsa(const Options& options) : options_(options) {
    ca_key_ = NewKey();
    tsa_key_ = NewKey();
    const time_t now = options.reference ? options.reference : time(nullptr);
    ca_cert_ = MakeCert("CN=" + options.name + " root", ca_key_.get(), nullptr, ca_key_.get(), true,
                        now - 86400, now + 10 * 86400);
    tsa_cert_ = MakeCert("CN=" + options.name, tsa_key_.get(), ca_cert_.get(), ca_key_.get(), false,
                         now + options.tsa_not_before_seconds, now + options.tsa_not_after_seconds);
  }

  // A token stamping `sha256` with `nonce_hex` (as TimestampRequest prints
  // it, "" for none) at `gen_time_unix_seconds` (milliseconds kept).
  std::string Token(const std::string& sha256, const std::string& nonce_hex,
                    double gen_time_unix_seconds) const {
    std::string nonce = nonce_hex.empty() ? std::string("\x01", 1) : Unhex(nonce_hex);
    auto request = MakeTimestampRequestWithNonce(sha256, nonce);
    if (!request.ok()) throw std::runtime_error(request.status().ToString());
    std::string der = request->der;
    if (nonce_hex.empty()) der = WithoutNonce(sha256);
    const std::string resp_der = Reply(der, gen_time_unix_seconds);
    auto token = TimestampTokenFromResponse(resp_der);
    if (!token.ok()) throw std::runtime_error("test TSA: " + token.status().ToString());
    return *token;
  }

  // The DER TimeStampResp this TSA sends for a DER TimeStampReq, stamped at
  // `gen_time_unix_seconds` ("" when the request is unusable).
  std::string Reply(const std::string& request_der, double gen_time_unix_seconds) const {
    TS_RESP_CTX* ctx = TS_RESP_CTX_new();
    ASN1_OBJECT* policy = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
    TS_RESP_CTX_set_signer_cert(ctx, tsa_cert_.get());
    TS_RESP_CTX_set_signer_key(ctx, tsa_key_.get());
    TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256());
    TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256());
    TS_RESP_CTX_set_def_policy(ctx, policy);
    TS_RESP_CTX_add_md(ctx, EVP_sha256());
    TS_RESP_CTX_set_clock_precision_digits(ctx, 3);
    TS_RESP_CTX_set_accuracy(ctx, 1, 0, 0);
    double when = gen_time_unix_seconds;
    TS_RESP_CTX_set_time_cb(
        ctx,
        [](TS_RESP_CTX*, void* data, long* sec, long* usec) -> int {
          const double t = *static_cast<double*>(data);
          *sec = static_cast<long>(std::floor(t));
          *usec = static_cast<long>((t - std::floor(t)) * 1e6);
          return 1;
        },
        &when);
    BIO* in = BIO_new_mem_buf(request_der.data(), static_cast<int>(request_der.size()));
    TS_RESP* resp = TS_RESP_create_response(ctx, in);
    BIO_free(in);
    unsigned char* out = nullptr;
    int len = resp ? i2d_TS_RESP(resp, &out) : 0;
    std::string resp_der = len > 0 ? std::string(reinterpret_cast<char*>(out), static_cast<size_t>(len)) : "";
    OPENSSL_free(out);
    TS_RESP_free(resp);
    TS_RESP_CTX_free(ctx);
    ASN1_OBJECT_free(policy);
    ERR_clear_error();
    return resp_der;
  }

  std::string CaPem() const { return CertPem(ca_cert_.get()); }
  std::string TsaCertPem() const { return CertPem(tsa_cert_.get()); }

  // Writes ca.pem, tsa.pem, tsa.key, serial and openssl-ts.cnf into `dir`;
  // `openssl ts -reply -config <dir>/openssl-ts.cnf -queryfile Q -out R`
  // then answers as this TSA.
  void WriteFiles(const std::string& dir) const {
    WriteText(dir + "/ca.pem", CaPem());
    WriteText(dir + "/tsa.pem", TsaCertPem());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, tsa_key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    WriteText(dir + "/tsa.key", BioText(bio));
    BIO_free(bio);
    WriteText(dir + "/serial", "01\n");
    WriteText(dir + "/openssl-ts.cnf",
              "[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\n"
              "serial = " +
                  dir +
                  "/serial\n"
                  "signer_cert = " +
                  dir +
                  "/tsa.pem\n"
                  "certs = " +
                  dir +
                  "/ca.pem\n"
                  "signer_key = " +
                  dir +
                  "/tsa.key\n"
                  "signer_digest = sha256\n"
                  "default_policy = 1.3.6.1.4.1.99999.1\n"
                  "digests = sha256\n"
                  "accuracy = secs:1\n"
                  "clock_precision_digits = 3\n"
                  "ordering = no\n"
                  "tsa_name = yes\n"
                  "ess_cert_id_chain = no\n"
                  "ess_cert_id_alg = sha256\n");
  }

 private:
  using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
  using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

  static KeyPtr NewKey() { return KeyPtr(EVP_EC_gen("P-256"), EVP_PKEY_free); }

  static void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) throw std::runtime_error(std::string("test TSA: extension ") + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }

  static CertPtr MakeCert(const std::string& subject, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                          bool ca, time_t not_before, time_t not_after) {
    static long serial = 1000;
    CertPtr cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
    X509_NAME* name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(subject.c_str() + 3), -1, -1, 0);
    X509_set_subject_name(cert.get(), name);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509_NAME_free(name);
    ASN1_TIME_set(X509_getm_notBefore(cert.get()), not_before);
    ASN1_TIME_set(X509_getm_notAfter(cert.get()), not_after);
    X509_set_pubkey(cert.get(), key);
    AddExt(cert.get(), issuer, NID_subject_key_identifier, "hash");
    if (ca) {
      AddExt(cert.get(), issuer, NID_basic_constraints, "critical,CA:TRUE");
      AddExt(cert.get(), issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
      AddExt(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE");
      AddExt(cert.get(), issuer, NID_authority_key_identifier, "keyid:always");
      AddExt(cert.get(), issuer, NID_key_usage, "critical,digitalSignature");
      AddExt(cert.get(), issuer, NID_ext_key_usage, "critical,timeStamping");
    }
    if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0)
      throw std::runtime_error("test TSA: cannot sign");
    return cert;
  }

  static std::string BioText(BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<size_t>(len));
  }
  static std::string CertPem(X509* cert) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    std::string out = BioText(bio);
    BIO_free(bio);
    return out;
  }
  static void WriteText(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  static std::string Unhex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
      out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
  }
  // A request without a nonce (a TSA that drops it is modelled by this).
  static std::string WithoutNonce(const std::string& sha256) {
    TS_REQ* req = TS_REQ_new();
    TS_MSG_IMPRINT* imprint = TS_MSG_IMPRINT_new();
    X509_ALGOR* algo = X509_ALGOR_new();
    X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr);
    TS_MSG_IMPRINT_set_algo(imprint, algo);
    std::string msg = sha256;
    TS_MSG_IMPRINT_set_msg(imprint, reinterpret_cast<unsigned char*>(msg.data()),
                           static_cast<int>(msg.size()));
    TS_REQ_set_version(req, 1);
    TS_REQ_set_msg_imprint(req, imprint);
    TS_REQ_set_cert_req(req, 1);
    unsigned char* out = nullptr;
    int len = i2d_TS_REQ(req, &out);
    std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
    OPENSSL_free(out);
    TS_REQ_free(req);
    TS_MSG_IMPRINT_free(imprint);
    X509_ALGOR_free(algo);
    return der;
  }

  Options options_;
  KeyPtr ca_key_{nullptr, EVP_PKEY_free};
  KeyPtr tsa_key_{nullptr, EVP_PKEY_free};
  CertPtr ca_cert_{nullptr, X509_free};
  CertPtr tsa_cert_{nullptr, X509_free};
};

}  // namespace resmeter
