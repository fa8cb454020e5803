// Tpm2QuoteVerifier: verifies a TPM 2.0 quote (TPM2_Quote output) made by an
// ECDSA attestation key (AK), against the PCR values reported with it.
//
// Checks, in order (each failure is VerifyFailed "tpm2: <check>: ..."):
//   ak_public        the AK (marshaled TPM2B_PUBLIC) is an ECC P-256/P-384 key with
//                    fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign
//   ak_certificate   an X.509 certificate for exactly the AK's key chains to a TPM CA
//                    the verifier trusts (<trust_anchors_dir>/tpm2/*.pem; see
//                    evidence/tpm2_ak_certificate.h for what is checked)
//   ak_pinned        the AK's SHA-256 fingerprint is allowed (only when the policy pins some)
//   attest           the quoted bytes are a TPMS_ATTEST with magic TPM_GENERATED_VALUE
//                    and type TPM_ST_ATTEST_QUOTE
//   signature        ECDSA (TPMT_SIGNATURE) over the TPMS_ATTEST bytes with the AK
//   qualifying_data  extraData equals the expected 64-byte user data (when given)
//   pcr_selection    the quote selects exactly the reported PCRs of the reported bank
//   pcr_digest       pcrDigest = H(reported PCR values in index order), H the signing hash
//   pcr_policy       each PCR the policy names has the expected value
// Not checked here: the EK certificate (the AK certificate's issuer vouches for
// the AK having been activated against a TPM's EK), revocation, firmware
// currency, and PCR values the policy does not pin.
//
// Immutable after construction; Verify is safe to call from several threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "evidence/evidence.h"
#include "evidence/evidence_crypto.h"
#include "evidence/tpm2_ak_certificate.h"

namespace resmeter {

struct Tpm2Policy {
  std::vector<std::string>
      allowed_ak_sha256;            // hex SHA-256 of the AK's SubjectPublicKeyInfo DER; empty = any
  std::map<int, std::string> pcrs;  // index -> expected lowercase hex
};

struct Tpm2Input {
  std::string attest;                             // TPMS_ATTEST bytes (TPM2B_ATTEST.attestationData)
  std::string signature;                          // marshaled TPMT_SIGNATURE
  std::string ak_public;                          // marshaled TPM2B_PUBLIC
  std::string pcr_bank;                           // "sha1", "sha256", "sha384"
  std::map<int, std::string> pcrs;                // index -> raw value
  std::optional<std::string> expected_user_data;  // 64 bytes
  std::string ak_cert;                // DER X.509 certificate of the AK; "" when the evidence has none
  std::vector<std::string> ak_chain;  // DER intermediates, leaf's issuer first
};

class Tpm2QuoteVerifier {
 public:
  // `trust`: the TPM CAs for ak_certificate; with none every quote fails that check.
  explicit Tpm2QuoteVerifier(Tpm2Policy policy, Tpm2AkTrust trust = {})
      : policy_(std::move(policy)), trust_(std::move(trust)) {}
  // Runs every check above.
  Result<EvidenceVerdict> Verify(const Tpm2Input& input) const;
  // The collector's self-check: every check but ak_certificate. Its success
  // says nothing about where the AK lives; never use it to trust evidence.
  Result<EvidenceVerdict> SelfCheck(const Tpm2Input& input) const;

 private:
  // Runs the checks; ak_certificate only when `certify`.
  Result<EvidenceVerdict> Run(const Tpm2Input& input, bool certify) const;
  Tpm2Policy policy_;
  Tpm2AkTrust trust_;
};

// The AK of a marshaled TPM2B_PUBLIC as a SubjectPublicKeyInfo PEM (what
// tpm2_checkquote -u reads). Corruption when it is not an ECC key.
Result<std::string> Tpm2AkPem(const std::string& ak_public);

// The AK of a marshaled TPM2B_PUBLIC as an OpenSSL key. Corruption when it is
// not an ECC P-256/P-384 key.
Result<EvpPkeyPtr> Tpm2AkPublicKey(const std::string& ak_public);

// Parses the evidence JSON members (base64 attest/signature/ak_public, pcr
// bank and hex PCR values, optional base64 DER ak_cert and ak_chain list) into
// a Tpm2Input. Corruption naming the member (a certificate that is not DER too).
Result<Tpm2Input> Tpm2InputFromJson(const nlohmann::json& evidence);

}  // namespace resmeter
