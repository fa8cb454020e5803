#include "tsa/timestamp_request.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "tsa/openssl_handles.h"
#include "tsa/timestamp_token.h"

namespace resmeter {

namespace {
using MsgImprintPtr = OpenSslPtr<TS_MSG_IMPRINT, TS_MSG_IMPRINT_free>;
using AlgorPtr = OpenSslPtr<X509_ALGOR, X509_ALGOR_free>;
using BignumPtr = OpenSslPtr<BIGNUM, BN_free>;
}  // namespace

Result<TimestampRequest> MakeTimestampRequestWithNonce(std::string_view sha256, std::string_view nonce) {
  if (sha256.size() != 32) return Status::InvalidArgument("timestamp imprint must be 32 bytes of SHA-256");
  if (nonce.empty() || nonce.size() > 8 || nonce[0] == 0) {
    return Status::InvalidArgument("timestamp nonce must be 1..8 bytes, the first non-zero");
  }
  TsReqPtr req(TS_REQ_new());
  MsgImprintPtr imprint(TS_MSG_IMPRINT_new());
  AlgorPtr algo(X509_ALGOR_new());
  BignumPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(nonce.data()), static_cast<int>(nonce.size()),
                         nullptr));
  if (!req || !imprint || !algo || !bn) return Status::IOError("timestamp request: out of memory");
  Asn1IntegerPtr nonce_int(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  std::string msg(sha256);
  if (!nonce_int || TS_REQ_set_version(req.get(), 1) != 1 ||
      X509_ALGOR_set0(algo.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr) != 1 ||
      TS_MSG_IMPRINT_set_algo(imprint.get(), algo.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(imprint.get(), reinterpret_cast<unsigned char*>(msg.data()), 32) != 1 ||
      TS_REQ_set_msg_imprint(req.get(), imprint.get()) != 1 ||
      TS_REQ_set_nonce(req.get(), nonce_int.get()) != 1 || TS_REQ_set_cert_req(req.get(), 1) != 1) {
    return Status::IOError("timestamp request: " + TakeOpenSslError());
  }
  unsigned char* der = nullptr;
  const int len = i2d_TS_REQ(req.get(), &der);
  if (len <= 0) return Status::IOError("timestamp request: " + TakeOpenSslError());
  TimestampRequest out;
  out.der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  out.nonce_hex = TsaHex(nonce);
  return out;
}

Result<TimestampRequest> MakeTimestampRequest(std::string_view sha256) {
  unsigned char nonce[8];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return Status::IOError("timestamp nonce: " + TakeOpenSslError());
  nonce[0] |= 1;  // a non-zero first byte keeps the hex 16 digits, as the token prints it
  return MakeTimestampRequestWithNonce(sha256,
                                       std::string_view(reinterpret_cast<char*>(nonce), sizeof nonce));
}

}  // namespace resmeter
