// The `evidence:` section of a policy file: accepted types, key origins,
// launch measurements and the per-type pins (sev-snp, tdx, tpm2), with hex
// lengths checked (SNP MEASUREMENT and TDX MRTD/RTMRs 48 bytes, HOST_DATA 32,
// TEE_TCB_SVN 16, PCRs the size of their bank). Part of the policy parser
// (policy/policy.h); pure, thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include "core/status.h"
#include "policy/policy.h"
#include "policy/policy_yaml.h"

namespace resmeter {

// Parses `n` (the value of the top-level `evidence` key) into p->evidence;
// InvalidArgument "SOURCE:LINE: message" naming the key on the first error.
Status ParsePolicyEvidence(const PolicyYaml& yaml, const YAML::Node& n, Policy* p);

}  // namespace resmeter
