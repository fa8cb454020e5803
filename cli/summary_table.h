// Human-readable tables for stderr: the probe summary and verify's checks
// and claims. Output only; no decisions are made here.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "policy/policy_evaluator.h"
#include "evidence/report_evidence.h"
#include "report/report_verifier.h"
#include "core/verdict.h"

namespace resmeter {

// One block per meter: status, duration, scalar claims, findings.
void PrintSubmodsTable(std::ostream& out, const nlohmann::json& submods);
// The time and evidence claims in one line each.
void PrintTrustLines(std::ostream& out, const nlohmann::json& claims);
// The time claim's assessment (trusted or not, reason, error bound).
void PrintTimeLines(std::ostream& out, const nlohmann::json& claims);
// The appraisal of the report's evidence in one line.
void PrintEvidenceAppraisal(std::ostream& out, const EvidenceAppraisal& appraisal);
// The verdict line of a policy, then one row per clause: result, name, required, measured.
void PrintPolicyTable(std::ostream& out, const Policy& policy, const PolicyVerdict& verdict);
// The verification checks, one per line, then VALID or INVALID.
void PrintChecksTable(std::ostream& out, const ReportVerification& v);
// A verdict's checks, one per line (name, ok/FAIL/warn/n/a/ERROR, detail),
// skipping those whose name starts with one of `skip_prefixes`.
void PrintVerdictChecks(std::ostream& out, const Verdict& verdict,
                        const std::vector<std::string>& skip_prefixes);
// A claim value for humans: numbers with unit scaling by suffix (_bytes, _hz, _seconds ...).
std::string FormatClaimValue(const std::string& name, const nlohmann::json& value);

}  // namespace resmeter
