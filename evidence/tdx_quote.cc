#include "evidence/tdx_quote.h"

#include "core/strings.h"

namespace resmeter {
namespace {

// A bounds-checked little-endian reader over the quote bytes.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  // Takes `n` bytes naming `field` in the error when they are not there.
  Status Take(size_t n, const char* field, std::string* out) {
    if (n > b_.size() - pos_) {
      return Status::Corruption(std::string("tdx quote: ") + field + " at offset " + std::to_string(pos_) +
                                " needs " + std::to_string(n) + " bytes, " + std::to_string(b_.size() - pos_) +
                                " left");
    }
    out->assign(b_.substr(pos_, n));
    pos_ += n;
    return Status::Ok();
  }
  template <typename T>
  Status Int(const char* field, T* out) {
    std::string bytes;
    RESMETER_RETURN_IF_ERROR(Take(sizeof(T), field, &bytes));
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<uint8_t>(bytes[i])) << (8 * i);
    *out = v;
    return Status::Ok();
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

}  // namespace

Result<TdxQuote> TdxQuote::Parse(std::string_view bytes) {
  TdxQuote q;
  q.raw = std::string(bytes);
  Reader r(bytes);
  std::string skip;
  TdxQuoteHeader& h = q.header;
  RESMETER_RETURN_IF_ERROR(r.Int("version", &h.version));
  if (h.version != 4) {
    return Status::Corruption("tdx quote: version " + std::to_string(h.version) + " is not 4");
  }
  RESMETER_RETURN_IF_ERROR(r.Int("att_key_type", &h.att_key_type));
  RESMETER_RETURN_IF_ERROR(r.Int("tee_type", &h.tee_type));
  RESMETER_RETURN_IF_ERROR(r.Int("qe_svn", &h.qe_svn));
  RESMETER_RETURN_IF_ERROR(r.Int("pce_svn", &h.pce_svn));
  RESMETER_RETURN_IF_ERROR(r.Take(16, "qe_vendor_id", &h.qe_vendor_id));
  RESMETER_RETURN_IF_ERROR(r.Take(20, "user_data", &h.user_data));
  TdxReportBody& b = q.body;
  RESMETER_RETURN_IF_ERROR(r.Take(16, "tee_tcb_svn", &b.tee_tcb_svn));
  RESMETER_RETURN_IF_ERROR(r.Take(48, "mr_seam", &b.mr_seam));
  RESMETER_RETURN_IF_ERROR(r.Take(48, "mr_signer_seam", &b.mr_signer_seam));
  RESMETER_RETURN_IF_ERROR(r.Int("seam_attributes", &b.seam_attributes));
  RESMETER_RETURN_IF_ERROR(r.Int("td_attributes", &b.td_attributes));
  RESMETER_RETURN_IF_ERROR(r.Int("xfam", &b.xfam));
  RESMETER_RETURN_IF_ERROR(r.Take(48, "mr_td", &b.mr_td));
  RESMETER_RETURN_IF_ERROR(r.Take(48, "mr_config_id", &b.mr_config_id));
  RESMETER_RETURN_IF_ERROR(r.Take(48, "mr_owner", &b.mr_owner));
  RESMETER_RETURN_IF_ERROR(r.Take(48, "mr_owner_config", &b.mr_owner_config));
  for (std::string& rtmr : b.rtmr) RESMETER_RETURN_IF_ERROR(r.Take(48, "rtmr", &rtmr));
  RESMETER_RETURN_IF_ERROR(r.Take(64, "report_data", &b.report_data));

  uint32_t sig_len = 0;
  RESMETER_RETURN_IF_ERROR(r.Int("signature_data_len", &sig_len));
  size_t sig_start = r.pos();
  RESMETER_RETURN_IF_ERROR(r.Take(64, "quote_signature", &q.quote_signature));
  RESMETER_RETURN_IF_ERROR(r.Take(64, "attestation_key", &q.attestation_key));
  RESMETER_RETURN_IF_ERROR(r.Int("cert_data_type", &q.cert_data_type));
  if (q.cert_data_type != 6) {
    return Status::Corruption("tdx quote: certification data type " + std::to_string(q.cert_data_type) +
                              " is not 6 (QE report certification data)");
  }
  uint32_t cert_size = 0;
  RESMETER_RETURN_IF_ERROR(r.Int("cert_data_size", &cert_size));
  size_t cert_start = r.pos();
  SgxReportBody& qe = q.qe_report;
  RESMETER_RETURN_IF_ERROR(r.Take(384, "qe_report", &qe.raw));
  RESMETER_RETURN_IF_ERROR(r.Take(64, "qe_report_signature", &q.qe_report_signature));
  uint16_t auth_size = 0;
  RESMETER_RETURN_IF_ERROR(r.Int("qe_auth_data_size", &auth_size));
  RESMETER_RETURN_IF_ERROR(r.Take(auth_size, "qe_auth_data", &q.qe_auth_data));
  RESMETER_RETURN_IF_ERROR(r.Int("pck_cert_data_type", &q.pck_cert_data_type));
  if (q.pck_cert_data_type != 5) {
    return Status::Corruption("tdx quote: QE certification data type " + std::to_string(q.pck_cert_data_type) +
                              " is not 5 (PCK certificate chain)");
  }
  uint32_t pck_size = 0;
  RESMETER_RETURN_IF_ERROR(r.Int("pck_cert_data_size", &pck_size));
  RESMETER_RETURN_IF_ERROR(r.Take(pck_size, "pck_cert_chain", &q.pck_chain_pem));
  if (r.pos() - cert_start != cert_size) {
    return Status::Corruption("tdx quote: cert_data_size " + std::to_string(cert_size) + " but its parts take " +
                              std::to_string(r.pos() - cert_start));
  }
  if (r.pos() - sig_start != sig_len) {
    return Status::Corruption("tdx quote: signature_data_len " + std::to_string(sig_len) + " but its parts take " +
                              std::to_string(r.pos() - sig_start));
  }
  q.quote_size = r.pos();
  q.trailing_bytes = bytes.size() - r.pos();

  std::string_view s = qe.raw;
  auto le = [&](size_t off, int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(s[off + i])) << (8 * i);
    return v;
  };
  qe.cpu_svn = std::string(s.substr(0, 16));
  qe.misc_select = le(16, 4);
  qe.attributes = std::string(s.substr(48, 16));
  qe.mr_enclave = std::string(s.substr(64, 32));
  qe.mr_signer = std::string(s.substr(128, 32));
  qe.isv_prod_id = static_cast<uint16_t>(le(256, 2));
  qe.isv_svn = static_cast<uint16_t>(le(258, 2));
  qe.report_data = std::string(s.substr(320, 64));
  return q;
}

nlohmann::json TdxQuote::ToJson() const {
  nlohmann::json rtmrs = nlohmann::json::array();
  for (const std::string& r : body.rtmr) rtmrs.push_back(HexEncode(r));
  return {{"header",
           {{"version", header.version},
            {"att_key_type", header.att_key_type},
            {"tee_type", header.tee_type},
            {"qe_svn", header.qe_svn},
            {"pce_svn", header.pce_svn},
            {"qe_vendor_id", HexEncode(header.qe_vendor_id)},
            {"user_data", HexEncode(header.user_data)}}},
          {"td_report",
           {{"tee_tcb_svn", HexEncode(body.tee_tcb_svn)},
            {"mr_seam", HexEncode(body.mr_seam)},
            {"mr_signer_seam", HexEncode(body.mr_signer_seam)},
            {"seam_attributes", body.seam_attributes},
            {"td_attributes", body.td_attributes},
            {"td_debug", (body.td_attributes & kTdAttributesDebug) != 0},
            {"xfam", body.xfam},
            {"mr_td", HexEncode(body.mr_td)},
            {"mr_config_id", HexEncode(body.mr_config_id)},
            {"mr_owner", HexEncode(body.mr_owner)},
            {"mr_owner_config", HexEncode(body.mr_owner_config)},
            {"rtmr", rtmrs},
            {"report_data", HexEncode(body.report_data)}}},
          {"quote_signature", HexEncode(quote_signature)},
          {"attestation_key", HexEncode(attestation_key)},
          {"qe_report",
           {{"cpu_svn", HexEncode(qe_report.cpu_svn)},
            {"misc_select", qe_report.misc_select},
            {"attributes", HexEncode(qe_report.attributes)},
            {"mr_enclave", HexEncode(qe_report.mr_enclave)},
            {"mr_signer", HexEncode(qe_report.mr_signer)},
            {"isv_prod_id", qe_report.isv_prod_id},
            {"isv_svn", qe_report.isv_svn},
            {"report_data", HexEncode(qe_report.report_data)}}},
          {"qe_auth_data", HexEncode(qe_auth_data)},
          {"quote_size", quote_size},
          {"trailing_bytes", trailing_bytes}};
}

}  // namespace resmeter
