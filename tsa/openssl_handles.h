// Owning handles for the OpenSSL objects of the tsa/ layer, and OpenSSL's
// error queue as one line of text. Header-only; thread-safe as OpenSSL is.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace resmeter {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter<T, Free>>;

using BioPtr = OpenSslPtr<BIO, BIO_free_all>;
using Pkcs7Ptr = OpenSslPtr<PKCS7, PKCS7_free>;
using TstInfoPtr = OpenSslPtr<TS_TST_INFO, TS_TST_INFO_free>;
using TsReqPtr = OpenSslPtr<TS_REQ, TS_REQ_free>;
using TsRespPtr = OpenSslPtr<TS_RESP, TS_RESP_free>;
using TsVerifyCtxPtr = OpenSslPtr<TS_VERIFY_CTX, TS_VERIFY_CTX_free>;
using X509Ptr = OpenSslPtr<X509, X509_free>;
using X509StorePtr = OpenSslPtr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = OpenSslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
using Asn1IntegerPtr = OpenSslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;

// The oldest queued OpenSSL error with its data ("reason: data"), then clears
// the queue; `fallback` when the queue is empty.
inline std::string TakeOpenSslError(const char* fallback = "unknown OpenSSL error") {
  const char* data = nullptr;
  int flags = 0;
  unsigned long e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags);
  ERR_clear_error();
  if (e == 0) return fallback;
  const char* reason = ERR_reason_error_string(e);
  std::string out = reason ? reason : "OpenSSL error";
  if (data && *data && (flags & ERR_TXT_STRING)) out += std::string(": ") + data;
  return out;
}

}  // namespace resmeter
