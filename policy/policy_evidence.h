// The evidence verifier's options that a policy asks for: accepted types,
// pinned measurements (SEV-SNP MEASUREMENT, HOST_DATA, minimum REPORTED_TCB,
// debug, VMPL; TDX MRTD and RTMR0-3; TPM PCRs), minimum TCB per type and the
// accepted key origins. Every path that verifies an identity's or a report's
// evidence against a policy builds its options here. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "evidence/evidence_verifier.h"
#include "policy/policy.h"

namespace resmeter {

// `base` (trust anchors, check time) with the policy's pins applied; a null
// policy returns `base` unchanged.
EvidenceVerifyOptions EvidenceOptionsFromPolicy(const Policy* policy, EvidenceVerifyOptions base);

// The key origins the policy accepts (default when unset: {"ephemeral"}).
std::vector<std::string> AcceptedKeyOrigins(const Policy* policy);

}  // namespace resmeter
