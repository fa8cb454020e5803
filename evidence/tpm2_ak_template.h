// The public area template of the attestation key (AK) resmeter creates in a
// TPM: a restricted ECDSA P-256 / SHA-256 signing key fixed to that TPM
// (fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign).
// The attester creates the AK from it; tests build software keys with the
// same public area so that only the TPM, not the layout, differs.
#pragma once

#include <tss2/tss2_tpm2_types.h>

namespace resmeter {

// Everything but `unique` (the key's own point), which the caller fills.
TPMT_PUBLIC ResmeterAkPublicTemplate();

}  // namespace resmeter
