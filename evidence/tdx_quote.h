// TdxQuote: an Intel TDX quote, version 4 (Intel TDX DCAP Quoting Library API,
// "Quote Format"), parsed into named fields: the 48-byte header, the 584-byte
// TD report body (TDREPORT), and the ECDSA signature data with its QE report
// certification data (type 6) and the PCK certificate chain (type 5).
//
// Parsing checks structure and bounds only; verification lives in
// evidence_tdx.h. A plain value type; safe to share once built.
#pragma once

#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace resmeter {

struct TdxQuoteHeader {
  uint16_t version = 0;        // 4
  uint16_t att_key_type = 0;   // 2 = ECDSA-256 with P-256
  uint32_t tee_type = 0;       // 0x81 = TDX
  uint16_t qe_svn = 0;
  uint16_t pce_svn = 0;
  std::string qe_vendor_id;    // 16 bytes
  std::string user_data;       // 20 bytes
};

struct TdxReportBody {
  std::string tee_tcb_svn;      // 16
  std::string mr_seam;          // 48
  std::string mr_signer_seam;   // 48
  uint64_t seam_attributes = 0;
  uint64_t td_attributes = 0;   // bit 0: DEBUG
  uint64_t xfam = 0;
  std::string mr_td;            // 48
  std::string mr_config_id;     // 48
  std::string mr_owner;         // 48
  std::string mr_owner_config;  // 48
  std::string rtmr[4];          // 48 each
  std::string report_data;      // 64 (the user data)
};

// The SGX REPORT body of the Quoting Enclave (384 bytes).
struct SgxReportBody {
  std::string cpu_svn;      // 16
  uint32_t misc_select = 0;
  std::string attributes;   // 16
  std::string mr_enclave;   // 32
  std::string mr_signer;    // 32
  uint16_t isv_prod_id = 0;
  uint16_t isv_svn = 0;
  std::string report_data;  // 64
  std::string raw;          // all 384 bytes (the signed bytes)
};

struct TdxQuote {
  static constexpr size_t kHeaderSize = 48;
  static constexpr size_t kBodySize = 584;
  static constexpr size_t kSignedSize = kHeaderSize + kBodySize;  // 632
  static constexpr uint64_t kTdAttributesDebug = 1;

  TdxQuoteHeader header;
  TdxReportBody body;
  std::string quote_signature;   // 64: r || s, big-endian
  std::string attestation_key;   // 64: x || y, big-endian (P-256)
  uint16_t cert_data_type = 0;   // 6 = QE report certification data
  SgxReportBody qe_report;
  std::string qe_report_signature;  // 64: r || s
  std::string qe_auth_data;
  uint16_t pck_cert_data_type = 0;  // 5 = PCK certificate chain (PEM)
  std::string pck_chain_pem;
  size_t quote_size = 0;         // bytes the structure covers
  size_t trailing_bytes = 0;     // bytes after it (not part of the quote; ignored)
  std::string raw;

  // Parses a version-4 quote; Corruption naming the field that overruns or is unexpected.
  static Result<TdxQuote> Parse(std::string_view bytes);
  std::string_view SignedBytes() const { return std::string_view(raw).substr(0, kSignedSize); }
  // All fields, binary ones as lowercase hex (the PCK chain omitted).
  nlohmann::json ToJson() const;
};

}  // namespace resmeter
