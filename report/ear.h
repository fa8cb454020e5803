// EAR: a report's appraisal as an IETF RATS "EAT Attestation Result"
// (draft-fv-rats-ear, profile tag:github.com,2023:veraison/ear), built from
// the one Verdict of report/report_appraisal.h; nothing is decided here
// that the verdict did not decide.
//
// One submod per meter in the report, plus "attester" for the agent as a
// whole. Each carries ear.status and an AR4SI trustworthiness vector
// (draft-ietf-rats-ar4si; tiers: 0/1/-1 none, 2-31 affirming, 32-95 warning,
// 96-127 contraindicated). Mapping: evidence verified and bound -> hardware
// 2 (genuine) and, for SEV-SNP/TDX, runtime-opaque 2 (encrypted memory);
// key bound (cnf, ueid, kid, signature) -> instance-identity 2; live roots
// and an accepted key origin -> configuration 2 (fixture roots allowed: 32);
// pinned measurement held -> executables 2; trusted time and co-signatures
// -> sourced-data 2; a failed policy clause or co-signature of a meter ->
// that submod contraindicated. A REJECTED verdict makes "attester"
// contraindicated and every other meter at least a warning. Pure
// functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "report/report_appraisal.h"

namespace resmeter {

inline constexpr const char* kEarProfile = "tag:github.com,2023:veraison/ear";
inline constexpr const char* kEarAttesterSubmod = "attester";

// AR4SI trustworthiness claim values used here.
namespace ar4si {
inline constexpr int kVerifierMalfunction = -1;
inline constexpr int kNoClaim = 0;
inline constexpr int kAffirming = 2;  // trustworthy instance, approved config, genuine hw, encrypted rt, ...
inline constexpr int kWarning = 32;   // unsafe config, untrusted sources, ...
inline constexpr int kContraindicated = 96;  // untrustworthy instance, contraindicated hw/rt/sources, ...
inline constexpr int kCryptoValidationFailed = 99;
}  // namespace ar4si

// "none", "affirming", "warning" or "contraindicated" for one claim value.
const char* EarTierName(int value);

struct EarOptions {
  double issued_at_unix_seconds = 0;  // when the appraisal was made
  std::string appraisal_policy_id;    // e.g. "policy:small-vm#sha256:<hex>"
  std::string raw_evidence_b64url;    // optional ear.raw-evidence (the report token, base64url)
};

// The EAR claims set (JSON) for an appraisal.
nlohmann::ordered_json BuildEar(const ReportAppraisal& appraisal, const EarOptions& options);

}  // namespace resmeter
