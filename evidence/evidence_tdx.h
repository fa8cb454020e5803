// TdxVerifier: verifies an Intel TDX version-4 quote against Intel's SGX
// root and an appraisal policy.
//
// Checks, in order (each failure is VerifyFailed "tdx: <check>: ..."):
//   header             att key type 2 (ECDSA P-256), TEE type 0x81, Intel QE vendor id
//   pck_root_trusted   the chain in the quote (every PEM block a certificate) ends
//                      in the shipped Intel SGX Root CA
//   pck_chain          PCK -> intermediate CA -> Intel root verifies at the check time
//   qe_report_signature  the QE report is signed by the PCK certificate's key
//   qe_report_binding  QE REPORTDATA = SHA-256(attestation key || QE auth data) || 32 zero bytes
//   quote_signature    header + TD report (bytes 0..631) signed by the attestation key
//   report_data        TD REPORTDATA equals the expected user data (when given)
//   td_debug           TD_ATTRIBUTES.DEBUG is clear (unless allowed)
//   mr_td              MRTD is in the allowed list (when given)
//   rtmr               each RTMR given in the policy matches
//   tee_tcb_svn        every byte of TEE_TCB_SVN >= the policy's minimum (when given)
// Not checked (listed in the verdict): TCB status from Intel's TCB info and QE
// identity collateral, and PCK/intermediate revocation (CRLs).
//
// Immutable after construction; Verify is safe to call from several threads.
#pragma once

#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "evidence/evidence.h"
#include "evidence/tdx_quote.h"

namespace resmeter {

struct TdxPolicy {
  bool allow_debug = false;
  std::vector<std::string> allowed_mr_td;  // lowercase hex; empty = any
  std::map<int, std::string> rtmr;         // index 0..3 -> expected lowercase hex
  std::optional<std::string> min_tee_tcb_svn;  // 16 raw bytes, per-component minimum; nullopt = any
};

struct TdxInput {
  std::string quote;
  std::optional<std::string> expected_report_data;  // 64 bytes
  std::optional<time_t> at;
};

class TdxVerifier {
 public:
  // `intel_root_pem`: the shipped Intel SGX Root CA certificate.
  TdxVerifier(std::string intel_root_pem, TdxPolicy policy);
  // Runs every check above.
  Result<EvidenceVerdict> Verify(const TdxInput& input) const;

 private:
  std::string intel_root_pem_;
  TdxPolicy policy_;
};

}  // namespace resmeter
