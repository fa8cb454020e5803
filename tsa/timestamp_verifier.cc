#include "tsa/timestamp_verifier.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <cmath>

#include "core/distinguished_name.h"
#include "tsa/openssl_handles.h"

namespace resmeter {

namespace {

using X509StackPtr = std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)>;

std::string SubjectText(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return "";
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : "";
}

// A store of the anchors that checks validity at `at_unix_seconds` and the
// timeStamping purpose; partial chains so a pinned TSA certificate suffices.
X509StorePtr AnchorStore(const TsaAnchors& anchors, time_t at_unix_seconds) {
  X509StorePtr store(X509_STORE_new());
  if (!store) return store;
  for (const auto& cert : anchors.certs()) X509_STORE_add_cert(store.get(), static_cast<X509*>(cert.get()));
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_time(param, at_unix_seconds);
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_TIMESTAMP_SIGN);
  ERR_clear_error();
  return store;
}

}  // namespace

bool TsaSignerListed(const std::string& signer_subject, const std::vector<std::string>& names) {
  const std::string cn = Rfc2253CommonName(signer_subject);
  return std::find(names.begin(), names.end(), signer_subject) != names.end() ||
         (!cn.empty() && std::find(names.begin(), names.end(), cn) != names.end());
}

Result<VerifiedTimestamp> VerifyTimestampToken(std::string_view der, const TimestampExpectation& expect,
                                               const TsaAnchors& anchors) {
  VerifiedTimestamp out;
  RESMETER_ASSIGN_OR_RETURN(out.info, ParseTimestampToken(der));
  const TimestampTokenInfo& info = out.info;

  if (info.imprint_algorithm != "SHA256" || info.imprint != expect.sha256) {
    return Status::VerifyFailed("imprint: the token stamps " + info.imprint_algorithm + " " +
                                TsaHex(info.imprint) + ", expected SHA256 " + TsaHex(expect.sha256));
  }
  if (!expect.nonce_hex.empty() && info.nonce_hex != expect.nonce_hex) {
    return Status::VerifyFailed("nonce: the token carries " +
                                (info.nonce_hex.empty() ? "none" : info.nonce_hex) + ", the request sent " +
                                expect.nonce_hex);
  }
  if (anchors.empty()) return Status::VerifyFailed("chain: no TSA trust anchors (" + anchors.source() + ")");

  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  Pkcs7Ptr token(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!token || !PKCS7_type_is_signed(token.get()) || !token->d.sign) {
    ERR_clear_error();
    return Status::Corruption("timestamp token is not CMS SignedData");
  }
  STACK_OF(X509)* carried = token->d.sign->cert;  // owned by the token
  STACK_OF(PKCS7_SIGNER_INFO)* signers = PKCS7_get_signer_info(token.get());
  if (!signers || sk_PKCS7_SIGNER_INFO_num(signers) != 1) {
    return Status::VerifyFailed("signature: the token must have exactly one signer");
  }
  X509StackPtr signer_stack(PKCS7_get0_signers(token.get(), nullptr, 0),
                            [](STACK_OF(X509) * s) { sk_X509_free(s); });
  if (!signer_stack || sk_X509_num(signer_stack.get()) != 1) {
    ERR_clear_error();
    return Status::VerifyFailed("chain: the token does not carry its signer's certificate");
  }
  X509* signer = sk_X509_value(signer_stack.get(), 0);
  out.signer_subject = SubjectText(signer);

  // Validity is checked at the stamped second: a token outlives its TSA certificate.
  const time_t at = static_cast<time_t>(std::floor(info.gen_time_unix_seconds));
  X509StorePtr store = AnchorStore(anchors, at);
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_CTX_init(ctx.get(), store.get(), signer, carried) != 1) {
    return Status::IOError("timestamp chain: " + TakeOpenSslError());
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Status::VerifyFailed("chain: TSA certificate \"" + out.signer_subject +
                                "\": " + X509_verify_cert_error_string(err) +
                                " (checked at the stamped time " + info.gen_time_text + ")");
  }

  ctx.reset();  // it refers to the store, which the verify context takes over below
  TsVerifyCtxPtr vctx(TS_VERIFY_CTX_new());
  if (!vctx) return Status::IOError("timestamp verify: out of memory");
  TS_VERIFY_CTX_set_flags(vctx.get(), TS_VFY_SIGNATURE | TS_VFY_VERSION);
  // The verify context owns (and frees) the store it is given.
  TS_VERIFY_CTX_set_store(vctx.get(), store.release());
  if (TS_RESP_verify_token(vctx.get(), token.get()) != 1) {
    return Status::VerifyFailed("signature: " + TakeOpenSslError());
  }
  ERR_clear_error();
  return out;
}

}  // namespace resmeter
