// Appraisal of a report's embedded `evidence` claim: the hardware evidence
// must verify with its type's verifier and bind the key that signed the
// report, user data = SHA-512(kid || eat_nonce) (evidence/evidence.h).
//
// "none" evidence is development mode: its binding is still checked, and it
// appraises as kDevelopment, never as trusted; whether that fails is the
// caller's (or the policy's) decision. Pure function; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "evidence/evidence_verifier.h"

namespace resmeter {

enum class EvidenceAppraisalStatus {
  kVerified,     // hardware evidence verified and bound to the key
  kDevelopment,  // type "none": no hardware evidence, not trusted
  kFailed,       // a check did not hold (signature, binding, chain), or the evidence is malformed
  kError,        // could not be appraised here (trust anchors unreadable, unsupported)
};

struct EvidenceAppraisal {
  std::string type = "?";  // wire name from the claim
  EvidenceAppraisalStatus status = EvidenceAppraisalStatus::kError;
  std::string detail;  // checks passed, or why not
  std::string
      measurement;  // launch measurement (hex) when verified: SNP measurement, TDX MRTD, TPM PCR digest
  nlohmann::json verdict;  // EvidenceVerdict::ToJson() when verified or development

  bool trusted() const { return status == EvidenceAppraisalStatus::kVerified; }
  // "verified", "development", "failed", "error".
  std::string StatusName() const;
  // {"type", "status", "trusted", "detail", "measurement"?, "verdict"?}.
  nlohmann::json ToJson() const;
  // One line for people, e.g. "sev-snp verified (signature, vcek_chain, ...)".
  std::string Describe() const;
};

// Appraises claims["evidence"] of a verified report whose signing key has
// RFC 7638 thumbprint `thumbprint`. options.allow_none is ignored.
EvidenceAppraisal AppraiseReportEvidence(const nlohmann::json& claims, const std::string& thumbprint,
                                         EvidenceVerifyOptions options);

}  // namespace resmeter
