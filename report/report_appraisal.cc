#include "report/report_appraisal.h"

#include <algorithm>
#include <cstdio>

#include "core/base64url.h"
#include "core/strings.h"
#include "core/untrusted_json.h"
#include "jose/jws.h"
#include "policy/policy_claims.h"
#include "policy/policy_evidence.h"
#include "report/report.h"
#include "report/report_timestamps.h"
#include "report/report_verifier.h"

namespace resmeter {
namespace {

using O = CheckOutcome;

// "a, b, c".
std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Parses `text` as a JSON object; nullopt when it is not one.
std::optional<nlohmann::json> ParseObject(const std::string& text) {
  nlohmann::json j = ParseUntrustedJsonOrDiscarded(text);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// The unverified payload's cnf.jwk, read only to pick the key the signature
// is then checked with (the key is trusted later, through the evidence).
Result<std::shared_ptr<const PublicKey>> KeyFromOwnCnf(const std::string& token) {
  const auto parts = Split(Trim(token), '.');
  if (parts.size() != 3) {
    return Status::Corruption("report is not a JWS compact token (expected 3 dot-separated parts, found " +
                              std::to_string(parts.size()) + "): truncated or not a report");
  }
  auto payload = Base64UrlDecode(parts[1]);
  if (!payload) return Status::Corruption("report payload is not base64url: truncated or not a report");
  auto claims = ParseObject(*payload);
  if (!claims) return Status::Corruption("report payload is not a JSON object: truncated or not a report");
  if (!claims->contains("cnf") || !(*claims)["cnf"].is_object() || !(*claims)["cnf"].contains("jwk")) {
    return Status::Corruption("report carries no cnf.jwk: give the agent's key with --key or --identity");
  }
  auto key = PublicKey::FromJwk((*claims)["cnf"]["jwk"]);
  if (!key.ok()) return key.status().WithContext("report cnf.jwk");
  return key;
}

// The identity's evidence verdict as a check outcome: a failed check rejects;
// a malformed document or a verifier without its anchors is an input error.
CheckOutcome OutcomeOf(const Status& s) {
  return s.code() == Status::Code::kVerifyFailed ? O::kFailed : O::kError;
}

// Adds the checks VerifyReport made.
void AddVerifyChecks(const ReportVerification& v, Verdict& verdict) {
  for (const auto& c : v.checks) verdict.Add(c.name, c.passed ? O::kPassed : O::kFailed, c.detail);
}

// cnf.jwk, ueid and key_origin against the key that verified the signature.
void AddKeyBindingChecks(const nlohmann::json& claims, const PublicKey& key, const Policy* policy,
                         Verdict& verdict) {
  const std::string& kid = key.thumbprint();
  std::optional<std::string> cnf_kid;
  if (claims.contains("cnf") && claims["cnf"].is_object() && claims["cnf"].contains("jwk")) {
    auto t = JwkThumbprint(claims["cnf"]["jwk"]);
    if (t.ok()) cnf_kid = *t;
  }
  if (!cnf_kid) {
    verdict.Add("cnf", O::kFailed, "cnf.jwk is missing or not a public JWK; the signing key is kid " + kid);
  } else if (*cnf_kid != kid) {
    verdict.Add("cnf", O::kFailed, "cnf.jwk is kid " + *cnf_kid + " but the report was signed by kid " + kid);
  } else {
    verdict.Add("cnf", O::kPassed, "cnf.jwk is the signing key (kid " + kid + ")");
  }

  const std::string want_ueid = UeidForThumbprint(kid);
  const std::string ueid =
      claims.contains("ueid") && claims["ueid"].is_string() ? claims["ueid"].get<std::string>() : "";
  if (ueid == want_ueid) {
    verdict.Add("ueid", O::kPassed, "derived from kid " + kid);
  } else {
    verdict.Add("ueid", O::kFailed,
                "ueid '" + ueid + "' is not the one of the signing key kid " + kid + " (" + want_ueid + ")");
  }

  const std::vector<std::string> accepted = AcceptedKeyOrigins(policy);
  if (!claims.contains("key_origin") || !claims["key_origin"].is_string()) {
    verdict.Add("key_origin", O::kFailed, "the report states no key_origin; accepted: " + Join(accepted));
  } else {
    const std::string origin = claims["key_origin"];
    if (std::find(accepted.begin(), accepted.end(), origin) != accepted.end()) {
      verdict.Add("key_origin", O::kPassed, origin);
    } else {
      verdict.Add("key_origin", O::kFailed,
                  "'" + origin + "' is not accepted (accepted: " + Join(accepted) + ")");
    }
  }
}

// The evidence check from its appraisal; "none" depends on allow_dev_evidence.
void AddEvidenceCheck(const EvidenceAppraisal& a, bool allow_dev, bool key_pinned, Verdict& verdict) {
  switch (a.status) {
    case EvidenceAppraisalStatus::kVerified:
      verdict.Add("evidence", O::kPassed, a.type + " verified, bound to the signing key (" + a.detail + ")");
      return;
    case EvidenceAppraisalStatus::kDevelopment:
      if (allow_dev) {
        verdict.Add("evidence", O::kWarning,
                    "none (development mode), accepted by --allow-dev-evidence: " +
                        std::string(key_pinned ? "the key is trusted only as pinned"
                                               : "nothing vouches for the key"));
      } else {
        verdict.Add("evidence", O::kFailed, "none (development mode); --allow-dev-evidence accepts it");
      }
      return;
    case EvidenceAppraisalStatus::kFailed:
      verdict.Add("evidence", O::kFailed, a.type + ": " + a.detail);
      return;
    case EvidenceAppraisalStatus::kError:
      verdict.Add("evidence", O::kError, a.type + " cannot be appraised: " + a.detail);
      return;
  }
}

// live / not_live_reasons.
void AddLiveCheck(const nlohmann::json& claims, bool allow_fixture_roots, Verdict& verdict) {
  if (!claims.contains("live") || !claims["live"].is_boolean()) {
    verdict.Add("live", O::kFailed, "the report does not say whether its meters read the live machine");
    return;
  }
  if (claims["live"].get<bool>()) {
    verdict.Add("live", O::kPassed, "meters read /proc and /sys");
    return;
  }
  std::vector<std::string> reasons;
  if (claims.contains("not_live_reasons") && claims["not_live_reasons"].is_array()) {
    for (const auto& r : claims["not_live_reasons"])
      if (r.is_string()) reasons.push_back(r.get<std::string>());
  }
  const std::string why =
      "not live (" + (reasons.empty() ? std::string("no reason given") : Join(reasons)) + ")";
  if (allow_fixture_roots) {
    verdict.Add("live", O::kWarning, why + ", accepted by --allow-fixture-roots");
  } else {
    verdict.Add("live", O::kFailed,
                why + ": the meters read fixture trees; --allow-fixture-roots accepts it");
  }
}

// Time trust is shown; only a policy (time.trusted) makes it reject.
void AddTimeCheck(const nlohmann::json& claims, Verdict& verdict) {
  if (!claims.contains("time") || !claims["time"].is_object()) {
    verdict.Add("time", O::kWarning, "no time claim: untrusted");
    return;
  }
  const nlohmann::json& t = claims["time"];
  const bool trusted = t.contains("trusted") && t["trusted"].is_boolean() && t["trusted"].get<bool>();
  std::string detail = trusted ? "trusted" : "untrusted";
  if (t.contains("reason") && t["reason"].is_string()) detail += ": " + t["reason"].get<std::string>();
  verdict.Add("time", trusted ? O::kPassed : O::kWarning, detail);
}

// The identity document: its evidence verified against the policy, its jwk the report's key.
void AddIdentityChecks(const nlohmann::json& doc, const PublicKey& key, const AppraisalInputs& in,
                       Verdict& verdict) {
  EvidenceVerifyOptions options = EvidenceOptionsFromPolicy(in.policy, in.evidence);
  options.allow_none = in.allow_dev_evidence;
  Result<EvidenceVerdict> v = VerifyIdentityDocument(doc, std::nullopt, options);
  if (!v.ok()) {
    verdict.Add("identity.evidence", OutcomeOf(v.status()), in.identity_name + ": " + v.status().message());
  } else if (v->type == "none") {
    verdict.Add("identity.evidence", O::kWarning,
                "none (development mode), accepted by --allow-dev-evidence");
  } else {
    verdict.Add(
        "identity.evidence", O::kPassed,
        v->type + " bound to kid " + v->fields.value("kid", std::string()) + " (" + Join(v->checks) + ")");
  }
  auto id_kid = JwkThumbprint(doc["jwk"]);
  if (id_kid.ok() && *id_kid == key.thumbprint()) {
    verdict.Add("identity.key", O::kPassed, "the identity's jwk signed the report (kid " + *id_kid + ")");
  } else {
    verdict.Add("identity.key", O::kFailed,
                "the identity's jwk is kid " + (id_kid.ok() ? *id_kid : std::string("?")) +
                    ", the report's key is kid " + key.thumbprint());
  }
}

// `text` with control characters (a newline in a signed claim) written as \xNN,
// so a reason can never add a line after the verdict line.
std::string OneLine(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

static ReportAppraisal AppraiseUnsanitized(const std::string& token, const AppraisalInputs& in);

std::string CheckSubmod(const std::string& check_name, const nlohmann::json& submods) {
  if (!submods.is_object()) return "";
  std::string meter;
  if (StartsWith(check_name, "policy.")) {
    std::string claim = check_name.substr(7);
    claim = claim.substr(0, claim.find('['));
    if (const PolicyClaimSpec* spec = FindPolicyClaim(claim)) meter = std::string(spec->claim->meter);
  } else if (StartsWith(check_name, "cosign.")) {
    meter = check_name.substr(7);
    meter = meter.substr(0, meter.find('['));
  }
  return submods.contains(meter) ? meter : "";
}

ReportAppraisal AppraiseReportDetailed(const std::string& token, const AppraisalInputs& in) {
  ReportAppraisal out = AppraiseUnsanitized(token, in);
  // Details quote signed claims and input files: one line each, always.
  Verdict clean;
  for (const Check& c : out.verdict.checks()) clean.Add(OneLine(c.name), c.outcome, OneLine(c.detail));
  out.verdict = std::move(clean);
  return out;
}

static ReportAppraisal AppraiseUnsanitized(const std::string& token, const AppraisalInputs& in) {
  ReportAppraisal out;
  Verdict& verdict = out.verdict;
  for (const std::string& e : in.input_errors) verdict.Add("input", O::kError, e);
  if (!verdict.accepted()) return out;

  // The key source: a pin (--key, --identity) or the report's own cnf.jwk.
  if (in.key_jwk && in.identity_json) {
    verdict.Add("key_source", O::kError, "give at most one of --key and --identity");
    return out;
  }
  std::optional<nlohmann::json> identity;
  std::string source;
  if (in.identity_json) {
    identity = ParseObject(*in.identity_json);
    if (!identity || !identity->contains("jwk")) {
      verdict.Add("key_source", O::kError,
                  in.identity_name + ": not an identity document (a JSON object with 'jwk')");
      return out;
    }
    auto key = PublicKey::FromJwk((*identity)["jwk"]);
    if (!key.ok()) {
      verdict.Add("key_source", O::kError, in.identity_name + ": " + key.status().message());
      return out;
    }
    out.key = *key;
    source = "pinned by " + in.identity_name;
  } else if (in.key_jwk) {
    auto jwk = ParseObject(*in.key_jwk);
    auto key = jwk ? PublicKey::FromJwk(*jwk)
                   : Result<std::shared_ptr<const PublicKey>>(Status::InvalidArgument("not a JSON object"));
    if (!key.ok()) {
      verdict.Add("key_source", O::kError, in.key_name + ": " + key.status().message());
      return out;
    }
    out.key = *key;
    source = "pinned by " + in.key_name;
  } else {
    auto key = KeyFromOwnCnf(token);
    if (!key.ok()) {
      verdict.Add("structure", O::kError, key.status().message());
      return out;
    }
    out.key = *key;
    source = "the report's own cnf.jwk, trusted only through its evidence";
  }
  verdict.Add("key_source", O::kPassed, source + " (kid " + out.key->thumbprint() + ")");

  ReportVerifyOptions options;
  options.expected_nonce_hex = in.expected_nonce_hex;
  options.now_unix_seconds = in.now_unix_seconds;
  options.allowed_algorithms = in.allowed_algorithms;
  options.max_clock_skew_seconds = in.max_clock_skew_seconds;
  Result<ReportVerification> v = VerifyReport(token, *out.key, options);
  if (!v.ok()) {
    verdict.Add("structure", O::kError, v.status().message());
    return out;
  }
  out.header = v->header;
  AddVerifyChecks(*v, verdict);
  if (!v->valid) return out;  // nothing below is meaningful on unsigned or stale claims
  out.claims = v->claims;
  const nlohmann::json& claims = out.claims;

  AddKeyBindingChecks(claims, *out.key, in.policy, verdict);
  const EvidenceVerifyOptions evidence_options = EvidenceOptionsFromPolicy(in.policy, in.evidence);
  out.evidence = AppraiseReportEvidence(claims, out.key->thumbprint(), evidence_options);
  AddEvidenceCheck(*out.evidence, in.allow_dev_evidence, in.key_jwk || identity, verdict);
  if (identity) AddIdentityChecks(*identity, *out.key, in, verdict);
  AddLiveCheck(claims, in.allow_fixture_roots, verdict);
  AddTimeCheck(claims, verdict);
  ReportTimestampOptions stamps;
  stamps.anchors = in.tsa_anchors;
  if (in.policy) {
    stamps.require_tsa = in.policy->require_tsa;
    if (in.policy->bracket_tolerance_seconds)
      stamps.tolerance_seconds = *in.policy->bracket_tolerance_seconds;
    if (in.policy->max_stamp_delay_seconds)
      stamps.max_stamp_delay_seconds = *in.policy->max_stamp_delay_seconds;
  }
  AddReportTimestampChecks(claims, stamps, verdict);

  out.cosign = VerifyReportNetCosignatures(claims, *out.key);
  for (const auto& c : out.cosign) {
    verdict.Add("cosign." + c.meter + "[" + c.target + "]", c.passed ? O::kPassed : O::kFailed, c.detail);
  }
  if (in.policy) {
    out.policy = EvaluatePolicy(*in.policy, claims, *out.evidence, in.now_unix_seconds);
    for (const auto& c : out.policy->clauses) {
      verdict.Add("policy." + c.name, c.passed ? O::kPassed : O::kFailed,
                  "required " + c.required + ", measured " + c.measured);
    }
  }
  return out;
}

Verdict AppraiseReport(const std::string& token, const AppraisalInputs& inputs) {
  return AppraiseReportDetailed(token, inputs).verdict;
}

}  // namespace resmeter
