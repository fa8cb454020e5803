// The appraisal of an epoch statement's evidence, shared by the audit
// (ledger/ledger_audit.h) and the writer's recovery
// (ledger/ledger_writer.h), so both judge an epoch the same way: the
// evidence must verify under the given options and its user data must be
// SHA-512(kid || raw SHA-256 of the line before) (the genesis epoch: no
// nonce). "none" evidence passes only with options.allow_none.
// Pure functions; safe to call from several threads.
#pragma once

#include <string>

#include "core/result.h"
#include "evidence/evidence_verifier.h"
#include "ledger/ledger_statement.h"

namespace resmeter {

// The evidence type an epoch statement names ("sev-snp", "none", ...; "?"
// when its evidence is not a JSON object with a string `type`).
std::string LedgerEpochEvidenceType(const LedgerStatement& epoch);

// Verifies an epoch statement's evidence bound to its kid and prev under
// `options`; the verdict lists the checks passed. Corruption when the
// evidence is not a JSON object; the verifier's error otherwise.
Result<EvidenceVerdict> AppraiseLedgerEpochEvidence(const LedgerStatement& epoch,
                                                    const EvidenceVerifyOptions& options);

}  // namespace resmeter
