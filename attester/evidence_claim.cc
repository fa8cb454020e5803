#include "attester/evidence_claim.h"

#include "core/strings.h"
#include "attester/evidence_detector.h"
#include "evidence/evidence_none.h"

namespace resmeter {

Result<nlohmann::json> CollectEvidenceClaim(const Options& global, const std::string& thumbprint,
                                            const std::string& nonce) {
  RESMETER_ASSIGN_OR_RETURN(EvidenceSettings settings, EvidenceSettings::FromOptions(global));
  RESMETER_ASSIGN_OR_RETURN(EvidenceDetection detection, DetectEvidenceBackend(settings));
  Result<nlohmann::json> evidence = CollectBoundEvidence(detection, thumbprint, nonce);
  if (evidence.ok() || settings.backend != "auto") return evidence;
  // Auto mode: a backend that was detected but failed to collect degrades to none, with why.
  std::string failed = EvidenceTypeName(detection.backend->type()) + " collection failed: " + evidence.status().message();
  detection.backend = std::make_unique<NoneBackend>(failed);
  return CollectBoundEvidence(detection, thumbprint, nonce);
}

}  // namespace resmeter
