// SevSnpVerifier: verifies an AMD SEV-SNP attestation report against AMD's
// roots and an appraisal policy.
//
// Checks, in order (each failure is VerifyFailed "sev-snp: <check>: ..."):
//   version          report version is 2..5
//   signature_algo   1 (ECDSA P-384 with SHA-384)
//   signing_key      0 (VCEK; VLEK-signed reports are not supported yet)
//   ark_trusted      the chain's ARK is byte-identical to a shipped AMD ARK
//   vcek_chain       VCEK -> ASK -> ARK (self-signed) verifies at the check time
//   vcek_key         the VCEK key is ECDSA P-384
//   vcek_tcb         the VCEK's TCB extensions equal REPORTED_TCB, and its hwID
//                    equals CHIP_ID (unless MASK_CHIP_KEY hid it)
//   signature        ECDSA P-384 over bytes 0x000..0x29F, R and S little-endian
//   signature_reserved  the signature's bytes after R and S are zero
//   report_data      REPORT_DATA equals the expected user data (when given)
//   policy_debug     the guest policy does not allow debugging (unless allowed)
//   measurement      MEASUREMENT is in the allowed list (when one is given)
//   host_data        HOST_DATA equals the pinned value (when one is given)
//   reported_tcb     REPORTED_TCB >= the minimum, per component (when given)
//   vmpl             VMPL <= the maximum (when given)
// Not checked: AMD's CRLs (revocation of an ASK/VCEK).
//
// Immutable after construction; Verify is safe to call from several threads.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "evidence/evidence.h"
#include "evidence/evidence_crypto.h"
#include "evidence/sev_snp_report.h"

namespace resmeter {

struct SevSnpPolicy {
  bool allow_debug = false;
  std::vector<std::string> allowed_measurements;  // lowercase hex; empty = any
  std::optional<std::string> host_data;           // lowercase hex of the 32 bytes; nullopt = any
  std::optional<SnpTcbVersion> min_reported_tcb;
  std::optional<uint32_t> max_vmpl;
};

struct SevSnpInput {
  std::string report;  // the 1184-byte report
  std::string vcek;    // VCEK certificate, DER or PEM
  std::string chain;   // ASK then ARK (PEM); empty: the shipped chain whose ASK issued the VCEK
  std::optional<std::string> expected_report_data;  // 64 bytes
  std::optional<time_t> at;                         // pinned check time (Unix seconds)
};

class SevSnpVerifier {
 public:
  // `anchor_chains`: the contents of the shipped ASK+ARK PEM files (parsed
  // once here; a parse error is returned by every Verify call).
  SevSnpVerifier(std::vector<std::string> anchor_chains, SevSnpPolicy policy);

  // Runs every check above; the verdict lists them and the report's fields.
  Result<EvidenceVerdict> Verify(const SevSnpInput& input) const;

 private:
  Status anchor_status_;                   // why the anchors did not parse
  std::vector<std::vector<X509Ptr>> anchors_;  // each shipped chain, ASK first
  std::vector<std::string> ark_ders_;      // the shipped ARKs' DER encodings
  SevSnpPolicy policy_;
};

// Reads every amd_ask_ark_*.pem in `dir` (sorted); NotFound when there is none.
Result<std::vector<std::string>> LoadAmdTrustAnchors(const std::string& dir);

// Extracts the VCEK from an SNP auxblob / extended-report certificate table
// (GUID 63da758d-e664-4564-adc5-f4b93be8accd); NotFound when absent.
Result<std::string> VcekFromCertTable(std::string_view table);

}  // namespace resmeter
