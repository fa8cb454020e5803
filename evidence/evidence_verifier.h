// Evidence verification dispatch: verifies an evidence JSON object (as the
// backends collect it, inside identity documents and reports) with the
// verifier of its type, and identity documents (public JWK + evidence bound
// to SHA-512(thumbprint || nonce)).
//
// "none" evidence fails ("none: trusted: development mode ...") unless
// allow_none is set, and then passes with no checks. Stateless functions; safe
// to call from several threads.
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "evidence/evidence.h"
#include "evidence/evidence_sev_snp.h"
#include "evidence/evidence_tdx.h"
#include "evidence/tpm2_quote_verifier.h"

namespace resmeter {

struct EvidenceVerifyOptions {
  std::string trust_anchors_dir = "/etc/resmeter/trust-anchors";
  std::optional<time_t> at;  // pinned check time for certificates
  bool allow_none = false;
  SevSnpPolicy snp;
  TdxPolicy tdx;
  Tpm2Policy tpm;
};

// Verifies `evidence` ({"type", ...}); `expected_user_data` (64 bytes) is the
// binding to check (nullopt: not checked, listed in not_checked).
Result<EvidenceVerdict> VerifyEvidenceJson(const nlohmann::json& evidence,
                                           const std::optional<std::string>& expected_user_data,
                                           const EvidenceVerifyOptions& options);

// Verifies evidence that binds an agent key: its user data must be
// SHA-512(thumbprint || nonce), `nonce` being the raw challenge bytes ("" when
// none). Used for identity documents and for a report's `evidence` claim.
Result<EvidenceVerdict> VerifyKeyBoundEvidence(const nlohmann::json& evidence, const std::string& thumbprint,
                                               const std::string& nonce, const EvidenceVerifyOptions& options);

// Verifies an identity document {"jwk", "evidence", "nonce"?}: the evidence's
// user data must be SHA-512(thumbprint(jwk) || nonce). `expected_nonce_hex`,
// when given, must equal the document's nonce.
Result<EvidenceVerdict> VerifyIdentityDocument(const nlohmann::json& doc,
                                               const std::optional<std::string>& expected_nonce_hex,
                                               const EvidenceVerifyOptions& options);

}  // namespace resmeter
