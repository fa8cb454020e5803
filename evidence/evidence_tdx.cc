#include "evidence/evidence_tdx.h"

#include <openssl/x509v3.h>

#include <algorithm>

#include "core/strings.h"
#include "evidence/evidence_crypto.h"

namespace resmeter {
namespace {

constexpr char kType[] = "tdx";
// Intel's Quoting Enclave vendor id.
constexpr char kIntelQeVendorId[] = "939a7233f79c4ca9940a0db3957f0607";

}  // namespace

TdxVerifier::TdxVerifier(std::string intel_root_pem, TdxPolicy policy)
    : intel_root_pem_(std::move(intel_root_pem)), policy_(std::move(policy)) {}

Result<EvidenceVerdict> TdxVerifier::Verify(const TdxInput& in) const {
  RESMETER_ASSIGN_OR_RETURN(std::vector<X509Ptr> roots, ParseCertificates(intel_root_pem_, "Intel SGX root"));
  RESMETER_ASSIGN_OR_RETURN(TdxQuote q, TdxQuote::Parse(in.quote));
  EvidenceVerdict v;
  v.type = kType;
  if (q.header.att_key_type != 2) {
    return CheckFailed(kType, "header", "attestation key type " + std::to_string(q.header.att_key_type) +
                                            " is not 2 (ECDSA P-256)");
  }
  if (q.header.tee_type != 0x81) {
    return CheckFailed(kType, "header", "TEE type " + std::to_string(q.header.tee_type) + " is not 0x81 (TDX)");
  }
  if (HexEncode(q.header.qe_vendor_id) != kIntelQeVendorId) {
    return CheckFailed(kType, "header", "QE vendor id " + HexEncode(q.header.qe_vendor_id) + " is not Intel's");
  }
  v.checks.push_back("header");

  // The PCK chain: leaf first, then the intermediate, then the root.
  Result<std::vector<X509Ptr>> parsed = ParseCertificates(q.pck_chain_pem, "PCK chain");
  if (!parsed.ok()) return CheckFailed(kType, "pck_chain", parsed.status().message());
  std::vector<X509Ptr>& chain = *parsed;
  // Every PEM block must parse: a damaged certificate is an error, not skipped.
  size_t blocks = 0;
  for (size_t pos = 0; (pos = q.pck_chain_pem.find("-----BEGIN", pos)) != std::string::npos; ++pos) ++blocks;
  size_t end = q.pck_chain_pem.rfind("-----END CERTIFICATE-----");
  bool clean_tail = end != std::string::npos &&
                    q.pck_chain_pem.find_first_not_of(std::string("\n\0", 2), end + 25) == std::string::npos;
  if (blocks != chain.size() || !clean_tail) {
    return CheckFailed(kType, "pck_chain", "only " + std::to_string(chain.size()) + " of " +
                                               std::to_string(blocks) + " PEM blocks are certificates");
  }
  if (chain.size() < 2) {
    return CheckFailed(kType, "pck_chain", "the quote carries " + std::to_string(chain.size()) +
                                               " certificate(s), want PCK + intermediate (+ root)");
  }
  std::string root_der = CertificateDer(roots.front().get());
  X509* embedded_root = nullptr;
  std::vector<X509*> intermediates;
  for (size_t i = 1; i < chain.size(); ++i) {
    if (X509_check_issued(chain[i].get(), chain[i].get()) == X509_V_OK) {
      embedded_root = chain[i].get();
    } else {
      intermediates.push_back(chain[i].get());
    }
  }
  if (embedded_root == nullptr) {
    return CheckFailed(kType, "pck_root_trusted", "the quote's PCK chain has no self-signed root");
  }
  if (CertificateDer(embedded_root) != root_der) {
    return CheckFailed(kType, "pck_root_trusted",
                       "the quote's root '" + CertificateCommonName(embedded_root) + "' is not the shipped Intel SGX Root CA");
  }
  v.checks.push_back("pck_root_trusted");
  X509* pck = chain.front().get();
  if (Status s = VerifyCertificateChain(pck, intermediates, roots.front().get(), in.at); !s.ok()) {
    return CheckFailed(kType, "pck_chain", s.message());
  }
  v.checks.push_back("pck_chain");

  EVP_PKEY* pck_key = X509_get0_pubkey(pck);
  if (pck_key == nullptr || EVP_PKEY_get_base_id(pck_key) != EVP_PKEY_EC) {
    return CheckFailed(kType, "qe_report_signature", "PCK key is not an EC key");
  }
  if (Status s = VerifyEcdsaRaw(pck_key, EVP_sha256(), q.qe_report.raw, q.qe_report_signature.substr(0, 32),
                                q.qe_report_signature.substr(32, 32));
      !s.ok()) {
    return CheckFailed(kType, "qe_report_signature", s.message() + " with the PCK key");
  }
  v.checks.push_back("qe_report_signature");

  std::string expected_qe_data = Sha256(q.attestation_key + q.qe_auth_data) + std::string(32, '\0');
  if (q.qe_report.report_data != expected_qe_data) {
    return CheckFailed(kType, "qe_report_binding",
                       "QE REPORTDATA is not SHA-256(attestation key || QE auth data) || zeros");
  }
  v.checks.push_back("qe_report_binding");

  Result<EvpPkeyPtr> att_key =
      EcPublicKeyFromXY("P-256", q.attestation_key.substr(0, 32), q.attestation_key.substr(32, 32));
  if (!att_key.ok()) return CheckFailed(kType, "quote_signature", att_key.status().message());
  if (Status s = VerifyEcdsaRaw(att_key->get(), EVP_sha256(), q.SignedBytes(), q.quote_signature.substr(0, 32),
                                q.quote_signature.substr(32, 32));
      !s.ok()) {
    return CheckFailed(kType, "quote_signature", s.message() + " over header + TD report with the attestation key");
  }
  v.checks.push_back("quote_signature");

  if (in.expected_report_data) {
    if (q.body.report_data != *in.expected_report_data) {
      return CheckFailed(kType, "report_data",
                         "REPORTDATA " + HexEncode(q.body.report_data.substr(0, 8)) +
                             "... does not match the expected user data " +
                             HexEncode(in.expected_report_data->substr(0, 8)) + "...");
    }
    v.checks.push_back("report_data");
  } else {
    v.not_checked.push_back("report_data: no expected user data given");
  }
  if ((q.body.td_attributes & TdxQuote::kTdAttributesDebug) != 0 && !policy_.allow_debug) {
    return CheckFailed(kType, "td_debug", "TD_ATTRIBUTES has DEBUG set, which policy forbids");
  }
  v.checks.push_back("td_debug");
  if (!policy_.allowed_mr_td.empty()) {
    std::string m = HexEncode(q.body.mr_td);
    if (std::find(policy_.allowed_mr_td.begin(), policy_.allowed_mr_td.end(), m) == policy_.allowed_mr_td.end()) {
      return CheckFailed(kType, "mr_td", "MRTD " + m + " is not in the allowed list");
    }
    v.checks.push_back("mr_td");
  }
  for (const auto& [index, hex] : policy_.rtmr) {
    if (index < 0 || index > 3) return CheckFailed(kType, "rtmr", "policy names RTMR " + std::to_string(index));
    if (HexEncode(q.body.rtmr[index]) != hex) {
      return CheckFailed(kType, "rtmr", "RTMR" + std::to_string(index) + " " + HexEncode(q.body.rtmr[index]) +
                                            " is not the expected " + hex);
    }
  }
  if (!policy_.rtmr.empty()) v.checks.push_back("rtmr");
  if (policy_.min_tee_tcb_svn) {
    const std::string& min = *policy_.min_tee_tcb_svn;
    const std::string& svn = q.body.tee_tcb_svn;
    for (size_t i = 0; i < min.size(); ++i) {
      if (i >= svn.size() || static_cast<uint8_t>(svn[i]) < static_cast<uint8_t>(min[i])) {
        return CheckFailed(kType, "tee_tcb_svn",
                           "TEE_TCB_SVN " + HexEncode(svn) + " is below the minimum " + HexEncode(min) +
                               " at byte " + std::to_string(i));
      }
    }
    v.checks.push_back("tee_tcb_svn");
  }
  v.not_checked.push_back("tcb_status: Intel TCB info and QE identity collateral not consulted");
  v.not_checked.push_back("crl: PCK and intermediate CA revocation lists not consulted");
  if (q.trailing_bytes > 0) {
    v.not_checked.push_back("trailing_bytes: " + std::to_string(q.trailing_bytes) +
                            " bytes after the quote structure are ignored");
  }
  v.fields = q.ToJson();
  v.fields["pck_subject"] = CertificateCommonName(pck);
  return v;
}

}  // namespace resmeter
