#include "policy/policy_evaluator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>

#include "core/distinguished_name.h"
#include "policy/net_cosign.h"

namespace resmeter {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The bounds of a clause for people: ">= 8 GiB", "<= 1 ms", "8 .. 16", "= 4", "contains 'H100'".
std::string RequiredText(const PolicyClause& c, const std::string& unit) {
  if (c.equals_text) return "= '" + *c.equals_text + "'";
  if (c.contains_text) return "contains '" + *c.contains_text + "'";
  if (c.equals) return "= " + FormatPolicyNumber(*c.equals, unit);
  if (c.min && c.max) return FormatPolicyNumber(*c.min, "") + " .. " + FormatPolicyNumber(*c.max, unit);
  if (c.min) return ">= " + FormatPolicyNumber(*c.min, unit);
  return "<= " + FormatPolicyNumber(c.max.value_or(0), unit);
}

// Whether one text value meets a text clause.
bool TextMatches(const PolicyClause& c, const std::string& value) {
  if (c.equals_text && value != *c.equals_text) return false;
  if (c.contains_text && Lower(value).find(Lower(*c.contains_text)) == std::string::npos) return false;
  return true;
}

// "8 x NVIDIA H100, 1 x NVIDIA A10" (in first-seen order).
std::string DescribeTexts(const std::vector<std::string>& texts) {
  std::vector<std::pair<std::string, int>> counts;
  for (const auto& t : texts) {
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& p) { return p.first == t; });
    if (it == counts.end()) {
      counts.push_back({t, 1});
    } else {
      ++it->second;
    }
  }
  std::string out;
  for (const auto& [t, n] : counts) out += (out.empty() ? "" : ", ") + std::to_string(n) + " x " + t;
  return out;
}

ClauseResult TimeTrusted(const Policy& p, const nlohmann::json& time) {
  ClauseResult r{"time.trusted", "trusted", "", false, p.time_line};
  if (!time.is_object() || !time.contains("trusted")) {
    r.measured = "unavailable: the report has no time claim";
  } else if (time.value("trusted", false)) {
    r.measured = "trusted";
    r.passed = true;
  } else {
    r.measured = "untrusted: " + time.value("reason", std::string("no reason given"));
  }
  return r;
}

// The selected time source must be NTS-authenticated and one of the pinned
// servers (by the name or address the time claim gives; the certificate is
// pinned by time.nts_certificate_subjects, TimeNtsCertificate).
ClauseResult TimeNtsServer(const Policy& p, const nlohmann::json& time) {
  std::string list;
  for (const auto& s : p.nts_servers) list += (list.empty() ? "" : ", ") + s;
  ClauseResult r{"time.nts_server", "one of " + list, "", false, p.time_line};
  const std::string server = time.is_object() && time.contains("server") && time["server"].is_string()
                                 ? time["server"].get<std::string>()
                                 : "";
  const std::string name = time.is_object() && time.contains("server_name") && time["server_name"].is_string()
                               ? time["server_name"].get<std::string>()
                               : "";
  const bool nts = time.is_object() && time.contains("nts_authenticated") &&
                   time["nts_authenticated"].is_boolean() && time["nts_authenticated"].get<bool>();
  if (server.empty()) {
    r.measured = "unavailable: the time claim names no selected server";
    return r;
  }
  r.measured =
      (name.empty() ? server : name + " (" + server + ")") + (nts ? ", NTS" : ", not NTS-authenticated");
  const bool listed =
      std::find(p.nts_servers.begin(), p.nts_servers.end(), server) != p.nts_servers.end() ||
      (!name.empty() && std::find(p.nts_servers.begin(), p.nts_servers.end(), name) != p.nts_servers.end());
  r.passed = nts && listed;
  return r;
}

// The selected NTS source's NTS-KE certificate (resmeter's own handshake,
// timesource/nts_certificate.h) must have verified and be one of the pinned:
// by subject CN, whole subject, or "sha256:<hex>".
ClauseResult TimeNtsCertificate(const Policy& p, const nlohmann::json& time) {
  std::string list;
  for (const auto& s : p.nts_certificate_subjects) list += (list.empty() ? "" : ", ") + s;
  ClauseResult r{"time.nts_certificate", "one of " + list, "", false, p.time_line};
  const nlohmann::json* cert =
      time.is_object() && time.contains("nts_certificate") && time["nts_certificate"].is_object()
          ? &time["nts_certificate"]
          : nullptr;
  if (!cert) {
    r.measured = "unavailable: the time claim names no NTS-KE certificate";
    return r;
  }
  auto text = [&](const char* key) {
    return cert->contains(key) && (*cert)[key].is_string() ? (*cert)[key].get<std::string>() : std::string();
  };
  const std::string subject = text("subject"), sha256 = text("sha256");
  const bool verified =
      cert->contains("verified") && (*cert)["verified"].is_boolean() && (*cert)["verified"].get<bool>();
  const std::string cn = Rfc2253CommonName(subject);
  const auto& pins = p.nts_certificate_subjects;
  const bool listed =
      (!subject.empty() && std::find(pins.begin(), pins.end(), subject) != pins.end()) ||
      (!cn.empty() && std::find(pins.begin(), pins.end(), cn) != pins.end()) ||
      (!sha256.empty() && std::find(pins.begin(), pins.end(), "sha256:" + sha256) != pins.end());
  r.measured = "\"" + subject + "\" of " + text("server") +
               (verified ? ", verified" : ", not verified: " + text("verify_error"));
  r.passed = verified && listed;
  return r;
}

ClauseResult TimeErrorBound(const Policy& p, const nlohmann::json& time) {
  ClauseResult r{"time.error_bound_seconds", "<= " + FormatPolicyNumber(*p.max_time_error_bound_seconds, "s"),
                 "", false, p.time_line};
  if (!time.is_object() || !time.contains("error_bound_seconds") ||
      !time["error_bound_seconds"].is_number()) {
    r.measured = "unavailable: " +
                 (time.is_object() ? time.value("reason", std::string("no error bound in the time claim"))
                                   : std::string("the report has no time claim"));
    return r;
  }
  const double bound = time["error_bound_seconds"].get<double>();
  r.measured = FormatPolicyNumber(bound, "s");
  r.passed = bound <= *p.max_time_error_bound_seconds;
  return r;
}

ClauseResult EvidenceTypeClause(const PolicyEvidence& e, const EvidenceAppraisal& a) {
  std::string accepted;
  for (const auto& t : e.accept) accepted += (accepted.empty() ? "" : ", ") + t;
  ClauseResult r{"evidence.type", "one of " + accepted, "", false, e.line};
  const bool listed = std::find(e.accept.begin(), e.accept.end(), a.type) != e.accept.end();
  switch (a.status) {
    case EvidenceAppraisalStatus::kVerified:
      r.measured = a.type + " (verified)";
      r.passed = listed;
      break;
    case EvidenceAppraisalStatus::kDevelopment:
      r.measured = "none (development mode, not trusted)";
      r.passed = listed;
      break;
    case EvidenceAppraisalStatus::kFailed:
      r.measured = a.type + " (failed: " + a.detail + ")";
      break;
    case EvidenceAppraisalStatus::kError:
      r.measured = a.type + " (cannot be appraised: " + a.detail + ")";
      break;
  }
  return r;
}

// The launch-measurement clause, when the policy lists measurements for the
// evidence's type (or for any type); a type without a list is not constrained.
std::optional<ClauseResult> EvidenceMeasurement(const PolicyEvidence& e, const EvidenceAppraisal& a) {
  auto list = e.measurements.find(a.type);
  if (list == e.measurements.end()) list = e.measurements.find("*");
  if (list == e.measurements.end()) return std::nullopt;
  ClauseResult r{"evidence.measurement", "one of " + std::to_string(list->second.size()) + " accepted", "",
                 false, e.line};
  if (!a.trusted() || a.measurement.empty()) {
    r.measured = "unavailable: no verified measurement (" + a.type + " evidence " + a.StatusName() + ")";
    return r;
  }
  r.measured = a.measurement;
  r.passed = std::find(list->second.begin(), list->second.end(), Lower(a.measurement)) != list->second.end();
  return r;
}

// The verifier checks that enforce the policy's pins for evidence of `type`
// (launch measurements have their own clause, evidence.measurement).
std::vector<std::string> PinChecks(const PolicyEvidence& e, const std::string& type) {
  std::vector<std::string> out;
  if (type == "sev-snp") {
    if (e.snp.host_data) out.push_back("host_data");
    if (e.snp.min_reported_tcb) out.push_back("reported_tcb");
    if (e.snp.max_vmpl) out.push_back("vmpl");
  } else if (type == "tdx") {
    if (!e.tdx.rtmr.empty()) out.push_back("rtmr");
    if (e.tdx.min_tee_tcb_svn) out.push_back("tee_tcb_svn");
  } else if (type == "tpm2") {
    if (!e.tpm.pcrs.empty()) out.push_back("pcr_policy");
    if (!e.tpm.allowed_ak_sha256.empty()) out.push_back("ak_pinned");
  }
  return out;
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// The pins clause: the verifier that appraised the evidence must have run the
// check of every pin the policy sets for its type (it did when the appraisal
// used EvidenceOptionsFromPolicy; an appraisal without them must not pass).
std::optional<ClauseResult> EvidencePins(const PolicyEvidence& e, const EvidenceAppraisal& a) {
  const std::vector<std::string> required = PinChecks(e, a.type);
  if (required.empty()) return std::nullopt;
  ClauseResult r{"evidence.pins", a.type + ": " + Joined(required), "", false, e.line};
  if (!a.trusted()) {
    r.measured = "unavailable: " + a.type + " evidence " + a.StatusName();
    return r;
  }
  std::vector<std::string> missing;
  const nlohmann::json checks =
      a.verdict.is_object() && a.verdict.contains("checks") && a.verdict["checks"].is_array()
          ? a.verdict["checks"]
          : nlohmann::json::array();
  for (const std::string& c : required) {
    if (std::find(checks.begin(), checks.end(), nlohmann::json(c)) == checks.end()) missing.push_back(c);
  }
  if (!missing.empty()) {
    r.measured = "not checked: " + Joined(missing) + " (evidence appraised without the policy's pins)";
    return r;
  }
  r.measured = "verified: " + Joined(required);
  r.passed = true;
  return r;
}

// Every finding of every submod as "meter: code", in report order.
std::vector<std::pair<std::string, std::string>> AllFindings(const nlohmann::json& submods) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!submods.is_object()) return out;
  for (auto it = submods.begin(); it != submods.end(); ++it) {
    const nlohmann::json& m = it.value();
    if (!m.is_object() || !m.contains("findings") || !m["findings"].is_array()) continue;
    for (const nlohmann::json& f : m["findings"]) {
      const std::string code =
          f.is_object() && f.contains("code") && f["code"].is_string() ? f["code"].get<std::string>() : "?";
      out.push_back({it.key(), code});
    }
  }
  return out;
}

std::string DescribeFindings(const std::vector<std::pair<std::string, std::string>>& findings) {
  std::string out;
  for (const auto& [meter, code] : findings) out += (out.empty() ? "" : ", ") + code + " (" + meter + ")";
  return out;
}

void FindingsClauses(const PolicyFindings& f, const nlohmann::json& submods, std::vector<ClauseResult>* out) {
  const auto all = AllFindings(submods);
  if (!f.forbid.empty()) {
    std::vector<std::pair<std::string, std::string>> hit;
    for (const auto& mf : all) {
      if (std::find(f.forbid.begin(), f.forbid.end(), mf.second) != f.forbid.end()) hit.push_back(mf);
    }
    ClauseResult r{"findings.forbid", "none of " + Joined(f.forbid), "", hit.empty(), f.forbid_line};
    r.measured = hit.empty()
                     ? (all.empty() ? "no findings" : "none forbidden (" + DescribeFindings(all) + ")")
                     : DescribeFindings(hit);
    out->push_back(std::move(r));
  }
  if (f.max) {
    ClauseResult r{"findings.max", "<= " + std::to_string(*f.max), "",
                   all.size() <= static_cast<size_t>(*f.max), f.max_line};
    r.measured = std::to_string(all.size()) + (all.empty() ? "" : ": " + DescribeFindings(all));
    out->push_back(std::move(r));
  }
}

// One meter's age (now - its submod's measured_at), no later than the report's iat.
ClauseResult MeterAge(const PolicyMeterAge& age, const nlohmann::json& claims, const nlohmann::json& submods,
                      double now) {
  ClauseResult r{"meters." + age.meter + ".age_seconds", "<= " + FormatPolicyNumber(age.max_age_seconds, "s"),
                 "", false, age.line};
  if (!submods.is_object() || !submods.contains(age.meter) || !submods[age.meter].is_object()) {
    r.measured = "unavailable: meter " + age.meter + " is not in the report";
    return r;
  }
  const nlohmann::json& m = submods[age.meter];
  if (!m.contains("measured_at") || !m["measured_at"].is_number()) {
    r.measured = "unavailable: " + age.meter + " has no measured_at";
    return r;
  }
  const double measured_at = m["measured_at"].get<double>();
  if (claims.contains("iat") && claims["iat"].is_number() && measured_at > claims["iat"].get<double>() + 1) {
    r.measured = "invalid: measured_at " + FormatPolicyNumber(measured_at, "") + " is after the report's iat";
    return r;
  }
  const double seconds = now - measured_at;
  r.measured = FormatPolicyNumber(seconds, "s");
  r.passed = seconds <= age.max_age_seconds;
  return r;
}

// The meter a net.* claim reads: the meter of its declared claim.
std::string NetMeter(const PolicyClaimSpec& spec) { return std::string(spec.claim->meter); }

ClauseResult ReportAge(const Policy& p, const nlohmann::json& claims, double now) {
  ClauseResult r{"report.age_seconds", "<= " + FormatPolicyNumber(*p.max_report_age_seconds, "s"), "", false,
                 p.max_report_age_line};
  if (!claims.is_object() || !claims.contains("iat") || !claims["iat"].is_number()) {
    r.measured = "unavailable: the report has no iat";
    return r;
  }
  const double age = now - claims["iat"].get<double>();
  r.measured = FormatPolicyNumber(age, "s");
  r.passed = age <= *p.max_report_age_seconds;
  return r;
}

}  // namespace

std::string FormatPolicyNumber(double v, const std::string& unit) {
  char buf[64];
  // Large values (IOPS, bytes) in full; small ones with 4 significant digits.
  if (std::fabs(v) >= 1000 || v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  }
  return unit.empty() ? std::string(buf) : std::string(buf) + " " + unit;
}

nlohmann::json ClauseResult::ToJson() const {
  nlohmann::json j = {{"name", name}, {"required", required}, {"measured", measured}, {"passed", passed}};
  if (line > 0) j["line"] = line;
  return j;
}

size_t PolicyVerdict::failed() const {
  return static_cast<size_t>(
      std::count_if(clauses.begin(), clauses.end(), [](const auto& c) { return !c.passed; }));
}

nlohmann::json PolicyVerdict::ToJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : clauses) list.push_back(c.ToJson());
  return {{"passed", passed}, {"failed", failed()}, {"clauses", list}};
}

ClauseResult JudgeClause(const PolicyClause& clause, const PolicyClaimSpec& spec,
                         const PolicyMeasurement& m) {
  ClauseResult r{clause.DisplayName(), RequiredText(clause, spec.unit), "", false, clause.line};
  if (!m.unavailable.empty()) {
    r.measured = "unavailable: " + m.unavailable;
    return r;
  }
  if (spec.kind == PolicyValueKind::kText) {
    if (m.texts.empty()) {
      r.measured = "unavailable: no value";
      return r;
    }
    r.measured = DescribeTexts(m.texts);
    r.passed =
        std::all_of(m.texts.begin(), m.texts.end(), [&](const auto& t) { return TextMatches(clause, t); });
    return r;
  }
  if (!m.number) {
    r.measured = "unavailable: no value";
    return r;
  }
  const double v = *m.number;
  r.measured = FormatPolicyNumber(v, spec.unit);
  r.passed = (!clause.min || v >= *clause.min) && (!clause.max || v <= *clause.max) &&
             (!clause.equals || v == *clause.equals);
  return r;
}

namespace {

// The evaluation itself; `agent_key` null: net.* clauses fail with `no_key_reason`.
PolicyVerdict Evaluate(const Policy& policy, const nlohmann::json& claims, const EvidenceAppraisal& evidence,
                       double now_unix_seconds, const PublicKey* agent_key,
                       const std::string& no_key_reason) {
  PolicyVerdict v;
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const nlohmann::json& submods =
      claims.is_object() && claims.contains("submods") ? claims["submods"] : kEmpty;
  std::vector<std::string> accepted_kids;
  for (const PolicyPeer& p : policy.peers) accepted_kids.push_back(p.kid);
  for (const PolicyClause& clause : policy.clauses) {
    const PolicyClaimSpec* spec = FindPolicyClaim(clause.claim);
    if (spec == nullptr) {  // only a hand-built Policy can get here
      v.clauses.push_back({clause.DisplayName(), "?", "unknown claim", false, clause.line});
      continue;
    }
    ClauseResult r = JudgeClause(clause, *spec, spec->measure(submods, clause));
    if (spec->qualifier == PolicyQualifier::kPeer) {
      // The numbers count only when a peer the buyer chose co-signed them.
      Status peers = agent_key == nullptr
                         ? Status::VerifyFailed(no_key_reason)
                         : CheckAcceptedNetPeers(submods, NetMeter(*spec),
                                                 clause.peer_kid.empty() ? clause.peer : clause.peer_kid,
                                                 accepted_kids, *agent_key);
      if (!peers.ok()) {
        r.passed = false;
        r.measured = "peer not accepted: " + peers.message();
      }
    }
    v.clauses.push_back(std::move(r));
  }
  if (policy.findings) FindingsClauses(*policy.findings, submods, &v.clauses);
  for (const PolicyMeterAge& age : policy.meter_ages) {
    v.clauses.push_back(MeterAge(age, claims.is_object() ? claims : kEmpty, submods, now_unix_seconds));
  }
  const nlohmann::json& time = claims.is_object() && claims.contains("time") ? claims["time"] : kEmpty;
  if (policy.require_trusted_time) v.clauses.push_back(TimeTrusted(policy, time));
  if (policy.max_time_error_bound_seconds) v.clauses.push_back(TimeErrorBound(policy, time));
  if (!policy.nts_servers.empty()) v.clauses.push_back(TimeNtsServer(policy, time));
  if (!policy.nts_certificate_subjects.empty()) v.clauses.push_back(TimeNtsCertificate(policy, time));
  if (policy.evidence) {
    v.clauses.push_back(EvidenceTypeClause(*policy.evidence, evidence));
    if (auto m = EvidenceMeasurement(*policy.evidence, evidence)) v.clauses.push_back(std::move(*m));
    if (auto pins = EvidencePins(*policy.evidence, evidence)) v.clauses.push_back(std::move(*pins));
  }
  if (policy.max_report_age_seconds) v.clauses.push_back(ReportAge(policy, claims, now_unix_seconds));
  v.passed = v.failed() == 0;
  return v;
}

}  // namespace

PolicyVerdict EvaluatePolicy(const Policy& policy, const nlohmann::json& claims,
                             const EvidenceAppraisal& evidence, double now_unix_seconds,
                             const PublicKey& agent_key) {
  return Evaluate(policy, claims, evidence, now_unix_seconds, &agent_key, "");
}

PolicyVerdict EvaluatePolicy(const Policy& policy, const nlohmann::json& claims,
                             const EvidenceAppraisal& evidence, double now_unix_seconds) {
  std::shared_ptr<const PublicKey> key;
  std::string why = "the report states no agent key (cnf.jwk) to check the co-signatures with";
  if (claims.is_object() && claims.contains("cnf") && claims["cnf"].is_object() &&
      claims["cnf"].contains("jwk")) {
    auto parsed = PublicKey::FromJwk(claims["cnf"]["jwk"]);
    if (parsed.ok()) {
      key = *parsed;
    } else {
      why = "the report's cnf.jwk is not a key: " + parsed.status().message();
    }
  }
  return Evaluate(policy, claims, evidence, now_unix_seconds, key.get(), why);
}

}  // namespace resmeter
