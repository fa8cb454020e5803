#include "reporter/policy_evidence.h"

#include "reporter/key_origin.h"

namespace resmeter {

EvidenceVerifyOptions EvidenceOptionsFromPolicy(const Policy* policy, EvidenceVerifyOptions base) {
  if (policy == nullptr || !policy->evidence) return base;
  const PolicyEvidence& e = *policy->evidence;
  if (auto m = e.measurements.find("sev-snp"); m != e.measurements.end()) base.snp.allowed_measurements = m->second;
  if (auto m = e.measurements.find("tdx"); m != e.measurements.end()) base.tdx.allowed_mr_td = m->second;
  return base;
}

std::vector<std::string> AcceptedKeyOrigins(const Policy* /*policy*/) {
  return {std::string(kKeyOriginEphemeral)};
}

}  // namespace resmeter
