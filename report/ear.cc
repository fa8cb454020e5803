#include "report/ear.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/strings.h"
#include "core/version.h"

namespace resmeter {
namespace {

// The eight AR4SI claims in the draft's order.
constexpr const char* kVectorClaims[] = {"instance-identity", "configuration", "executables",
                                         "file-system",       "hardware",      "runtime-opaque",
                                         "storage-opaque",    "sourced-data"};

// Severity of a tier for "worst of": none 0, affirming 1, warning 2, contraindicated 3.
int Severity(int value) {
  if (value >= 96 && value <= 127) return 3;
  if (value >= 32 && value <= 95) return 2;
  if (value >= 2 && value <= 31) return 1;
  return 0;
}

const char* StatusOfSeverity(int s) {
  static const char* kNames[] = {"none", "affirming", "warning", "contraindicated"};
  return kNames[std::clamp(s, 0, 3)];
}

// The outcome of a named check, or nullopt when the verdict has none.
std::optional<CheckOutcome> Outcome(const Verdict& v, const std::string& name) {
  for (const Check& c : v.checks())
    if (c.name == name) return c.outcome;
  return std::nullopt;
}

bool Is(const Verdict& v, const std::string& name, CheckOutcome o) { return Outcome(v, name) == o; }

bool AnyFailed(const Verdict& v, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    auto o = Outcome(v, n);
    if (o == CheckOutcome::kFailed || o == CheckOutcome::kError) return true;
  }
  return false;
}

using Vector = std::map<std::string, int>;

// The vector of the agent as a whole.
Vector AttesterVector(const ReportAppraisal& a) {
  const Verdict& v = a.verdict;
  Vector tv;
  for (const char* c : kVectorClaims) tv[c] = ar4si::kNoClaim;

  // Instance identity: the signature verified with a key that cnf, ueid and kid name.
  if (AnyFailed(v, {"structure", "algorithm", "key", "signature"})) {
    tv["instance-identity"] = ar4si::kCryptoValidationFailed;
  } else if (AnyFailed(v, {"cnf", "ueid", "identity.key", "key_source"})) {
    tv["instance-identity"] = ar4si::kContraindicated;  // untrustworthy instance
  } else if (Is(v, "cnf", CheckOutcome::kPassed) && Is(v, "ueid", CheckOutcome::kPassed) &&
             Is(v, "evidence", CheckOutcome::kPassed)) {
    tv["instance-identity"] = ar4si::kAffirming;  // trustworthy instance: hardware binds the key
  }

  // Hardware and runtime: the embedded evidence.
  if (a.evidence) {
    switch (a.evidence->status) {
      case EvidenceAppraisalStatus::kVerified:
        tv["hardware"] = ar4si::kAffirming;  // genuine
        if (a.evidence->type == "sev-snp" || a.evidence->type == "tdx")
          tv["runtime-opaque"] = ar4si::kAffirming;
        break;
      case EvidenceAppraisalStatus::kFailed:
        tv["hardware"] = ar4si::kContraindicated;
        break;
      case EvidenceAppraisalStatus::kError:
        tv["hardware"] = ar4si::kVerifierMalfunction;
        break;
      case EvidenceAppraisalStatus::kDevelopment:
        break;  // no hardware claim can be made
    }
  }
  if (Is(v, "identity.evidence", CheckOutcome::kFailed)) tv["hardware"] = ar4si::kContraindicated;

  // Executables: the launch measurement, when a policy pins it.
  if (auto o = Outcome(v, "policy.evidence.measurement")) {
    tv["executables"] = *o == CheckOutcome::kPassed ? ar4si::kAffirming : ar4si::kContraindicated;
  }

  // Configuration: live roots and an accepted key origin.
  const auto live = Outcome(v, "live");
  const auto origin = Outcome(v, "key_origin");
  if (live == CheckOutcome::kFailed || origin == CheckOutcome::kFailed) {
    tv["configuration"] = ar4si::kContraindicated;
  } else if (live == CheckOutcome::kWarning) {
    tv["configuration"] = ar4si::kWarning;  // fixture roots, accepted on request
  } else if (live == CheckOutcome::kPassed && origin == CheckOutcome::kPassed) {
    tv["configuration"] = ar4si::kAffirming;
  }

  // Sourced data: time and the peers' co-signatures.
  const auto time = Outcome(v, "time");
  const bool cosign_failed =
      std::any_of(a.cosign.begin(), a.cosign.end(), [](const auto& c) { return !c.passed; });
  // An RFC 3161 token that does not verify, or a report time outside its bracket.
  const bool timestamp_failed = std::any_of(v.checks().begin(), v.checks().end(), [](const Check& c) {
    return c.name.rfind("timestamp", 0) == 0 &&
           (c.outcome == CheckOutcome::kFailed || c.outcome == CheckOutcome::kError);
  });
  if (cosign_failed || timestamp_failed) {
    tv["sourced-data"] = ar4si::kContraindicated;
  } else if (time == CheckOutcome::kPassed) {
    tv["sourced-data"] = ar4si::kAffirming;
  } else if (time == CheckOutcome::kWarning) {
    tv["sourced-data"] = ar4si::kWarning;
  }
  return tv;
}

int WorstSeverity(const Vector& tv) {
  int s = 0;
  for (const auto& [name, value] : tv) s = std::max(s, Severity(value));
  return s;
}

nlohmann::ordered_json Appraisal(const Vector& tv, int severity, const std::string& policy_id,
                                 const std::vector<std::string>& reasons) {
  nlohmann::ordered_json vector;
  for (const char* c : kVectorClaims) vector[c] = tv.at(c);
  nlohmann::ordered_json j;
  j["ear.status"] = StatusOfSeverity(severity);
  j["ear.trustworthiness-vector"] = vector;
  j["ear.appraisal-policy-id"] = policy_id;
  if (!reasons.empty()) j["resmeter.reasons"] = reasons;
  return j;
}

}  // namespace

const char* EarTierName(int value) { return StatusOfSeverity(Severity(value)); }

nlohmann::ordered_json BuildEar(const ReportAppraisal& a, const EarOptions& options) {
  const Verdict& v = a.verdict;
  const std::string policy_id =
      options.appraisal_policy_id.empty() ? "policy:resmeter-default" : options.appraisal_policy_id;
  nlohmann::ordered_json ear;
  ear["eat_profile"] = kEarProfile;
  ear["iat"] = static_cast<int64_t>(std::floor(options.issued_at_unix_seconds));
  ear["ear.verifier-id"] = {{"build", std::string(SoftwareName()) + " " + SoftwareVersion()},
                            {"developer", "resmeter"}};
  if (!options.raw_evidence_b64url.empty()) ear["ear.raw-evidence"] = options.raw_evidence_b64url;

  const Vector attester = AttesterVector(a);
  nlohmann::ordered_json submods;
  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& report_submods =
      a.claims.is_object() && a.claims.contains("submods") && a.claims["submods"].is_object()
          ? a.claims["submods"]
          : empty;
  for (auto it = report_submods.begin(); it != report_submods.end(); ++it) {
    const std::string& meter = it.key();
    Vector tv = attester;
    std::vector<std::string> reasons;
    bool failed = false, has_checks = false;
    for (const Check& c : v.checks()) {
      if (CheckSubmod(c.name, report_submods) != meter) continue;
      has_checks = true;
      if (c.outcome == CheckOutcome::kFailed || c.outcome == CheckOutcome::kError) {
        failed = true;
        reasons.push_back(c.name + ": " + c.detail);
      }
    }
    const nlohmann::json& m = it.value();
    const bool ok = m.is_object() && m.contains("status") && m["status"] == "ok";
    if (failed) {
      tv["sourced-data"] = ar4si::kContraindicated;
    } else if (!ok) {
      tv["sourced-data"] = ar4si::kNoClaim;  // nothing measured to vouch for
    } else if (has_checks && tv["sourced-data"] == ar4si::kNoClaim) {
      tv["sourced-data"] = ar4si::kAffirming;
    }
    // A meter of a REJECTED report is at best a warning: its numbers come from an attester not accepted.
    const int severity = v.accepted() ? WorstSeverity(tv) : std::max(WorstSeverity(tv), 2);
    submods[meter] = Appraisal(tv, severity, policy_id, reasons);
  }
  int severity = WorstSeverity(attester);
  if (!v.accepted()) severity = 3;  // a REJECTED verdict is never affirming
  std::vector<std::string> reasons;
  for (const Check& c : v.checks()) {
    if ((c.outcome == CheckOutcome::kFailed || c.outcome == CheckOutcome::kError) &&
        CheckSubmod(c.name, report_submods).empty()) {
      reasons.push_back(c.name + ": " + c.detail);
    }
  }
  submods[kEarAttesterSubmod] = Appraisal(attester, severity, policy_id, reasons);
  ear["submods"] = submods;
  return ear;
}

}  // namespace resmeter
