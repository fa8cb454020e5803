#include "ledger/ledger_epoch_evidence.h"

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "core/untrusted_json.h"

namespace resmeter {

std::string LedgerEpochEvidenceType(const LedgerStatement& epoch) {
  nlohmann::json evidence = ParseUntrustedJsonOrDiscarded(epoch.evidence);
  if (!evidence.is_object()) return "?";
  auto it = evidence.find("type");
  return it != evidence.end() && it->is_string() ? it->get<std::string>() : "?";
}

Result<EvidenceVerdict> AppraiseLedgerEpochEvidence(const LedgerStatement& epoch,
                                                    const EvidenceVerifyOptions& options) {
  nlohmann::json evidence = ParseUntrustedJsonOrDiscarded(epoch.evidence);
  if (!evidence.is_object()) return Status::Corruption("'evidence' is not a JSON object");
  // The nonce is the raw SHA-256 of the line before (none for the genesis epoch).
  const std::string nonce =
      epoch.prev == kLedgerGenesisPrev ? std::string() : HexDecode(epoch.prev).value_or(std::string());
  return VerifyKeyBoundEvidence(evidence, epoch.kid, nonce, options);
}

}  // namespace resmeter
