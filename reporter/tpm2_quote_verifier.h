// Tpm2QuoteVerifier: verifies a TPM 2.0 quote (TPM2_Quote output) made by an
// ECDSA attestation key (AK), against the PCR values reported with it.
//
// Checks, in order (each failure is VerifyFailed "tpm2: <check>: ..."):
//   ak_public        the AK (marshaled TPM2B_PUBLIC) is an ECC P-256/P-384 key with
//                    fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign
//   ak_pinned        the AK's SHA-256 fingerprint is allowed (only when the policy pins some)
//   attest           the quoted bytes are a TPMS_ATTEST with magic TPM_GENERATED_VALUE
//                    and type TPM_ST_ATTEST_QUOTE
//   signature        ECDSA (TPMT_SIGNATURE) over the TPMS_ATTEST bytes with the AK
//   qualifying_data  extraData equals the expected 64-byte user data (when given)
//   pcr_selection    the quote selects exactly the reported PCRs of the reported bank
//   pcr_digest       pcrDigest = H(reported PCR values in index order), H the signing hash
//   pcr_policy       each PCR the policy names has the expected value
// Not checked: that the AK is resident in a genuine TPM (no EK certificate
// chain or credential activation), and firmware currency.
//
// Immutable after construction; Verify is safe to call from several threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "reporter/evidence.h"

namespace resmeter {

struct Tpm2Policy {
  std::vector<std::string> allowed_ak_sha256;  // hex SHA-256 of the AK's SubjectPublicKeyInfo DER; empty = any
  std::map<int, std::string> pcrs;             // index -> expected lowercase hex
};

struct Tpm2Input {
  std::string attest;     // TPMS_ATTEST bytes (TPM2B_ATTEST.attestationData)
  std::string signature;  // marshaled TPMT_SIGNATURE
  std::string ak_public;  // marshaled TPM2B_PUBLIC
  std::string pcr_bank;   // "sha1", "sha256", "sha384"
  std::map<int, std::string> pcrs;  // index -> raw value
  std::optional<std::string> expected_user_data;  // 64 bytes
};

class Tpm2QuoteVerifier {
 public:
  explicit Tpm2QuoteVerifier(Tpm2Policy policy) : policy_(std::move(policy)) {}
  // Runs every check above.
  Result<EvidenceVerdict> Verify(const Tpm2Input& input) const;

 private:
  Tpm2Policy policy_;
};

// The AK of a marshaled TPM2B_PUBLIC as a SubjectPublicKeyInfo PEM (what
// tpm2_checkquote -u reads). Corruption when it is not an ECC key.
Result<std::string> Tpm2AkPem(const std::string& ak_public);

// Parses the evidence JSON members (base64 attest/signature/ak_public, pcr
// bank and hex PCR values) into a Tpm2Input. Corruption naming the member.
Result<Tpm2Input> Tpm2InputFromJson(const nlohmann::json& evidence);

}  // namespace resmeter
