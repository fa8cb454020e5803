#include "policy/policy_evidence.h"

#include "jose/key_origin.h"

namespace resmeter {

EvidenceVerifyOptions EvidenceOptionsFromPolicy(const Policy* policy, EvidenceVerifyOptions base) {
  if (policy == nullptr || !policy->evidence) return base;
  const PolicyEvidence& e = *policy->evidence;
  // The policy's pins replace the base's: the buyer's policy decides what runs.
  base.snp = e.snp;
  base.tdx = e.tdx;
  base.tpm = e.tpm;
  // Launch measurements: per type, else the list for any type (SNP
  // MEASUREMENT and TDX MRTD are both 48 bytes; a TPM's is its PCR digest,
  // which the appraisal compares, not the quote verifier).
  auto list = [&](const char* type) -> std::vector<std::string> {
    if (auto m = e.measurements.find(type); m != e.measurements.end()) return m->second;
    if (auto m = e.measurements.find("*"); m != e.measurements.end()) return m->second;
    return {};
  };
  base.snp.allowed_measurements = list("sev-snp");
  base.tdx.allowed_mr_td = list("tdx");
  return base;
}

std::vector<std::string> AcceptedKeyOrigins(const Policy* policy) {
  if (policy != nullptr && policy->evidence && !policy->evidence->key_origins.empty()) {
    return policy->evidence->key_origins;
  }
  return {std::string(kKeyOriginEphemeral)};
}

}  // namespace resmeter
