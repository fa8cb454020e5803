#include "tsa/timestamp_token.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <cmath>
#include <ctime>

#include "tsa/openssl_handles.h"

namespace resmeter {

namespace {

// Unix seconds of a GeneralizedTime, with its fractional seconds (RFC 3161
// allows "YYYYMMDDhhmmss[.f*]Z"); ASN1_TIME_to_tm drops the fraction.
Result<double> GeneralizedTimeSeconds(const ASN1_GENERALIZEDTIME* t) {
  struct tm tm = {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return Status::Corruption("genTime is not a valid time");
  const time_t whole = timegm(&tm);
  if (whole == static_cast<time_t>(-1)) return Status::Corruption("genTime out of range");
  std::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)),
                        static_cast<size_t>(ASN1_STRING_length(t)));
  double fraction = 0;
  size_t dot = text.find('.');
  if (dot != std::string_view::npos) {
    double scale = 0.1;
    for (size_t i = dot + 1; i < text.size() && text[i] >= '0' && text[i] <= '9' && scale > 1e-10; ++i) {
      fraction += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  return static_cast<double>(whole) + fraction;
}

// Value of a small non-negative ASN1_INTEGER; -1 when absent or unusable.
double SmallInteger(const ASN1_INTEGER* i) {
  if (!i) return 0;
  int64_t v = 0;
  if (ASN1_INTEGER_get_int64(&v, i) != 1 || v < 0 || v > 1'000'000'000) return -1;
  return static_cast<double>(v);
}

std::string IntegerHex(const ASN1_INTEGER* i) {
  if (!i) return "";
  return TsaHex(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(i)),
                                 static_cast<size_t>(ASN1_STRING_length(i))));
}

std::string GeneralNameText(GENERAL_NAME* name) {
  if (!name) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return "";
  if (name->type == GEN_DIRNAME) {
    X509_NAME_print_ex(bio.get(), name->d.directoryName, 0, XN_FLAG_RFC2253);
  } else {
    GENERAL_NAME_print(bio.get(), name);
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : "";
}

}  // namespace

std::string TsaHex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

Result<TimestampTokenInfo> ParseTimestampToken(std::string_view der) {
  if (der.empty()) return Status::Corruption("timestamp token is empty");
  if (der.size() > kMaxTimestampTokenBytes) {
    return Status::Corruption("timestamp token is " + std::to_string(der.size()) +
                              " bytes, over the limit of " + std::to_string(kMaxTimestampTokenBytes));
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  Pkcs7Ptr token(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!token) return Status::Corruption("timestamp token is not DER CMS: " + TakeOpenSslError());
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    ERR_clear_error();
    return Status::Corruption("timestamp token has trailing bytes");
  }
  TstInfoPtr info(PKCS7_to_TS_TST_INFO(token.get()));
  if (!info) return Status::Corruption("timestamp token holds no TSTInfo: " + TakeOpenSslError());

  TimestampTokenInfo out;
  const ASN1_GENERALIZEDTIME* gen = TS_TST_INFO_get_time(info.get());
  RESMETER_ASSIGN_OR_RETURN(out.gen_time_unix_seconds, GeneralizedTimeSeconds(gen));
  out.gen_time_text.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gen)),
                           static_cast<size_t>(ASN1_STRING_length(gen)));

  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(info.get());
  X509_ALGOR* algo = imprint ? TS_MSG_IMPRINT_get_algo(imprint) : nullptr;
  ASN1_OCTET_STRING* msg = imprint ? TS_MSG_IMPRINT_get_msg(imprint) : nullptr;
  if (!algo || !msg) return Status::Corruption("timestamp token has no message imprint");
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, algo);
  const int nid = oid ? OBJ_obj2nid(oid) : NID_undef;
  out.imprint_algorithm = nid == NID_undef ? "unknown" : OBJ_nid2sn(nid);
  out.imprint.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(msg)),
                     static_cast<size_t>(ASN1_STRING_length(msg)));

  const ASN1_INTEGER* nonce = TS_TST_INFO_get_nonce(info.get());
  if (nonce && ASN1_STRING_type(nonce) == V_ASN1_NEG_INTEGER)
    return Status::Corruption("timestamp nonce is negative");
  out.nonce_hex = IntegerHex(nonce);
  out.serial_hex = IntegerHex(TS_TST_INFO_get_serial(info.get()));

  if (ASN1_OBJECT* policy = TS_TST_INFO_get_policy_id(info.get())) {
    char buf[128];
    if (OBJ_obj2txt(buf, sizeof buf, policy, 1) > 0) out.policy_oid = buf;
  }
  if (TS_ACCURACY* acc = TS_TST_INFO_get_accuracy(info.get())) {
    const double s = SmallInteger(TS_ACCURACY_get_seconds(acc));
    const double ms = SmallInteger(TS_ACCURACY_get_millis(acc));
    const double us = SmallInteger(TS_ACCURACY_get_micros(acc));
    if (s < 0 || ms < 0 || us < 0 || ms > 999 || us > 999)
      return Status::Corruption("timestamp accuracy out of range");
    out.accuracy_seconds = s + ms / 1e3 + us / 1e6;
  }
  out.tsa_name = GeneralNameText(TS_TST_INFO_get_tsa(info.get()));
  ERR_clear_error();
  return out;
}

Result<std::string> TimestampTokenFromResponse(std::string_view der) {
  if (der.empty()) return Status::Corruption("timestamp reply is empty");
  if (der.size() > kMaxTimestampTokenBytes)
    return Status::Corruption("timestamp reply is over the size limit");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  TsRespPtr resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  if (!resp) return Status::Corruption("timestamp reply is not a DER TimeStampResp: " + TakeOpenSslError());
  TS_STATUS_INFO* status = TS_RESP_get_status_info(resp.get());
  int64_t code = -1;
  if (!status || ASN1_INTEGER_get_int64(&code, TS_STATUS_INFO_get0_status(status)) != 1) {
    ERR_clear_error();
    return Status::Corruption("timestamp reply has no status");
  }
  // 0 granted, 1 grantedWithMods (RFC 3161 2.4.2).
  if (code != 0 && code != 1) {
    std::string text;
    if (const STACK_OF(ASN1_UTF8STRING)* texts = TS_STATUS_INFO_get0_text(status)) {
      for (int i = 0; i < sk_ASN1_UTF8STRING_num(texts) && i < 4; ++i) {
        const ASN1_UTF8STRING* s = sk_ASN1_UTF8STRING_value(texts, i);
        if (!text.empty()) text += "; ";
        text.append(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                    std::min<size_t>(200, static_cast<size_t>(ASN1_STRING_length(s))));
      }
    }
    for (char& c : text) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return Status::VerifyFailed("TSA refused: status " + std::to_string(code) +
                                (text.empty() ? "" : " (" + text + ")"));
  }
  PKCS7* token = TS_RESP_get_token(resp.get());
  if (!token) return Status::Corruption("timestamp reply grants but carries no token");
  unsigned char* out = nullptr;
  int len = i2d_PKCS7(token, &out);
  if (len <= 0) {
    ERR_clear_error();
    return Status::Corruption("timestamp reply token cannot be encoded");
  }
  std::string token_der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return token_der;
}

}  // namespace resmeter
