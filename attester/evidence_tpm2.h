// Tpm2Backend: collects TPM 2.0 evidence through tss2 ESAPI. The TCTI is
// configurable: "device:/dev/tpmrm0" (default), or "swtpm:host=127.0.0.1,port=N"
// for a software TPM in tests (any tss2-tctildr configuration string works).
//
// Collect(user_data):
//   1. creates the attestation key (AK) as a primary key in the endorsement
//      hierarchy: ECC P-256, ECDSA-SHA256, fixedTPM|fixedParent|
//      sensitiveDataOrigin|userWithAuth|restricted|sign. The template is fixed,
//      so the same TPM yields the same AK on every call (until its endorsement
//      seed changes);
//   2. quotes the configured PCRs (bank + indices) with qualifyingData set to
//      the 64-byte user data itself (TPM2B_DATA holds up to 64 bytes, so the
//      SHA-512 binding digest is folded in verbatim, no further hashing);
//   3. reads the PCR values; if the quoted digest does not match them (a PCR
//      was extended in between) it quotes again, up to 3 times;
//   4. reads the EK certificate from NV (RSA 0x01c00002, ECC 0x01c0000a) when
//      the TPM has one (for information: verifiers do not rely on it);
//   5. attaches the AK certificate: from ak_cert_file (PEM or DER; further
//      certificates in it, and those of ak_chain_file, are the intermediates),
//      else from NV index ak_cert_nv_index (as cloud vTPMs publish it), else
//      none (verifiers then reject the quote). A configured certificate whose
//      key is not this TPM's AK is an error naming its source.
// The evidence JSON: {"type": "tpm2", "user_data": hex, "qualifying_data":
// "user_data", "attest": base64 TPMS_ATTEST, "signature": base64 TPMT_SIGNATURE,
// "ak_public": base64 TPM2B_PUBLIC, "ak_pem": PEM, "pcr_bank", "pcrs": {index: hex},
// "ek_cert": base64 DER (only when present), "ak_cert": base64 DER and
// "ak_chain": [base64 DER, ...] (only when configured)}.
//
// Each Collect opens and closes its own ESAPI context; not reentrant per instance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "evidence/evidence.h"

namespace resmeter {

struct Tpm2Options {
  std::string tcti = "device:/dev/tpmrm0";
  std::string pcr_bank = "sha256";
  std::vector<int> pcrs = {0, 1, 2, 3, 4, 5, 6, 7};
  std::string ak_cert_file;       // AK certificate (PEM or DER, leaf first); "" = none
  std::string ak_chain_file;      // intermediates (PEM bundle or DER); "" = none
  uint32_t ak_cert_nv_index = 0;  // NV index holding the AK certificate (DER); 0 = none
};

class Tpm2Backend : public EvidenceBackend {
 public:
  explicit Tpm2Backend(Tpm2Options options) : options_(std::move(options)) {}
  EvidenceType type() const override { return EvidenceType::kTpm2; }
  Result<nlohmann::json> Collect(const std::string& user_data) override;
  // Opens the TCTI and asks the TPM for its manufacturer; NotSupported when
  // no TPM answers. Returns the manufacturer's four-character id.
  Result<std::string> Probe();

 private:
  Tpm2Options options_;
};

}  // namespace resmeter
