// Evidence backend detection: which hardware evidence this machine can
// produce, decided at run time, and the backend to use.
//
// Probes, in order: configfs-tsm (an entry is created and removed to read its
// provider: sev_guest or tdx_guest), then TPM 2.0 (for a "device:PATH" TCTI
// the device must exist; then the TPM must answer GetCapability). With
// backend "auto" the first available one is used, else "none" with the
// reasons of every probe. A configured backend ("sev-snp", "tdx", "tpm2")
// that is not available is an error (NotSupported) naming why; "none" is
// always available. Each call probes afresh; safe to call from one thread at
// a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/option_spec.h"
#include "evidence/evidence.h"
#include "attester/evidence_configfs_tsm.h"
#include "attester/evidence_tpm2.h"

namespace resmeter {

struct EvidenceSettings {
  std::string backend = "auto";  // auto | sev-snp | tdx | tpm2 | none
  ConfigfsTsmOptions tsm;
  Tpm2Options tpm;
  // Reads evidence.backend, evidence.configfs_tsm_root, evidence.tpm_tcti,
  // evidence.tpm_pcr_bank and evidence.tpm_pcrs from the global options.
  static Result<EvidenceSettings> FromOptions(const Options& global);
};

struct BackendProbe {
  std::string backend;  // "configfs-tsm", "tpm2"
  bool available = false;
  std::string detail;   // provider / manufacturer, or why not
};

struct EvidenceDetection {
  std::vector<BackendProbe> probes;
  std::unique_ptr<EvidenceBackend> backend;  // never null on success
  // {"selected": type, "probes": [{"backend", "available", "detail"}]}.
  nlohmann::json ToJson() const;
};

// Probes the machine and picks the backend as described above.
Result<EvidenceDetection> DetectEvidenceBackend(const EvidenceSettings& settings);

// Collects evidence bound to `thumbprint` and `nonce` (raw bytes) from the
// detected backend: the evidence JSON plus "binding" (how user_data was made),
// "nonce" (hex, when given) and "detection".
Result<nlohmann::json> CollectBoundEvidence(EvidenceDetection& detection, const std::string& thumbprint,
                                            const std::string& nonce);

}  // namespace resmeter
