// `resmeter verify REPORT`: check a report's signature, validity and nonce,
// appraise its evidence and time, and (with --policy) what was ordered.
// Exit 0 only when everything holds; 1 when a check, the evidence or a
// policy clause fails; 2 for bad input (report, key, policy file).
#include <algorithm>
#include <iostream>

#include "agent/commands.h"
#include "core/untrusted_json.h"
#include "agent/summary_table.h"
#include "core/env.h"
#include "reporter/net_cosign.h"
#include "reporter/policy.h"
#include "reporter/policy_evaluator.h"
#include "reporter/report.h"
#include "reporter/report_evidence.h"
#include "reporter/report_verifier.h"

namespace resmeter {
namespace {

struct VerifyArgs {
  std::string report, key, identity, nonce, at, policy;
  bool json = false;
  bool allow_dev_evidence = false;
};

// Loads the verification key from --key (a JWK) or --identity (a document with a "jwk" member).
Result<std::shared_ptr<const PublicKey>> LoadVerificationKey(const VerifyArgs& args) {
  if (args.key.empty() == args.identity.empty()) {
    return Status::InvalidArgument("give exactly one of --key JWK_FILE or --identity FILE");
  }
  const std::string& path = args.key.empty() ? args.identity : args.key;
  RESMETER_ASSIGN_OR_RETURN(std::string text, ReadInputFile(path));
  JsonLimits limits;
  limits.max_bytes = 1024 * 1024;
  limits.what = path;
  RESMETER_ASSIGN_OR_RETURN(nlohmann::json doc, ParseUntrustedJson(text, limits));
  if (!doc.is_object()) return Status::InvalidArgument(path + ": not a JSON object");
  if (!args.identity.empty()) {
    if (!doc.contains("jwk")) return Status::InvalidArgument(path + ": identity document has no 'jwk'");
    doc = doc["jwk"];
  }
  auto key = PublicKey::FromJwk(doc);
  if (!key.ok()) return key.status().WithContext(path);
  return key;
}

// The time claim's assessment for --json: trusted, reason, error bound, source.
nlohmann::json TimeSummary(const nlohmann::json& claims) {
  if (!claims.contains("time") || !claims["time"].is_object())
    return {{"trusted", false}, {"reason", "no time claim"}};
  const nlohmann::json& t = claims["time"];
  nlohmann::json j = {{"trusted", t.value("trusted", false)}};
  for (const char* key : {"reason", "error_bound_seconds", "max_error_bound_seconds", "source", "server",
                          "nts_authenticated", "synchronized"}) {
    if (t.contains(key)) j[key] = t[key];
  }
  return j;
}

// The first failing clause for the one-line reason on stderr.
std::string FirstFailure(const PolicyVerdict& v) {
  for (const auto& c : v.clauses) {
    if (!c.passed) return c.name + " (required " + c.required + ", measured " + c.measured + ")";
  }
  return "";
}

int RunVerify(const CliGlobals& globals, const VerifyArgs& args) {
  auto config = globals.LoadConfig();
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  std::optional<Policy> policy;
  if (!args.policy.empty()) {
    auto p = LoadPolicyFile(args.policy);
    if (!p.ok()) return Fail(kExitUsage, p.status().message());
    policy = std::move(*p);
  }
  auto key = LoadVerificationKey(args);
  if (!key.ok()) return Fail(kExitUsage, key.status().message());
  auto token = ReadInputFile(args.report);
  if (!token.ok()) return Fail(kExitUsage, "report " + token.status().message());

  ReportVerifyOptions options;
  options.allowed_algorithms = config->global.Strings("verify.allowed_algorithms");
  options.max_clock_skew_seconds = static_cast<double>(config->global.Int("verify.max_clock_skew_seconds"));
  options.now_unix_seconds = DefaultEnv()->WallSeconds();
  if (!args.at.empty()) {
    auto at = ParseTimeArgument(args.at);
    if (!at.ok()) return Fail(kExitUsage, "--at: " + at.status().message());
    options.now_unix_seconds = *at;
  }
  if (!args.nonce.empty()) {
    auto n = NormalizeNonceHex(args.nonce);
    if (!n.ok()) return Fail(kExitUsage, n.status().message());
    options.expected_nonce_hex = *n;
  }
  auto result = VerifyReport(*token, **key, options);
  if (!result.ok()) return Fail(kExitUsage, args.report + ": " + result.status().message());

  // Evidence and policy are appraised only on claims whose signature held.
  EvidenceAppraisal evidence;
  std::optional<PolicyVerdict> verdict;
  std::vector<NetCosignCheck> cosign;  // the peers' co-signatures of net.* numbers
  if (result->valid) {
    cosign = VerifyReportNetCosignatures(result->claims, **key);
    EvidenceVerifyOptions evidence_options;
    evidence_options.trust_anchors_dir = config->global.String("evidence.trust_anchors_dir");
    if (!args.at.empty()) evidence_options.at = static_cast<time_t>(options.now_unix_seconds);
    evidence = AppraiseReportEvidence(result->claims, (*key)->thumbprint(), evidence_options);
    if (policy) verdict = EvaluatePolicy(*policy, result->claims, evidence, options.now_unix_seconds);
  }
  const bool evidence_failed = evidence.status == EvidenceAppraisalStatus::kFailed;
  const bool evidence_error = evidence.status == EvidenceAppraisalStatus::kError;
  const bool policy_failed = verdict && !verdict->passed;
  const auto bad_cosign =
      std::find_if(cosign.begin(), cosign.end(), [](const NetCosignCheck& c) { return !c.passed; });
  const bool cosign_failed = bad_cosign != cosign.end();

  if (args.json) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& c : result->checks)
      checks.push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
    nlohmann::json out = {{"valid", result->valid}, {"checks", checks}, {"header", result->header}};
    if (!result->valid) out["failure"] = result->failure;
    if (result->valid) {
      out["passed"] = !evidence_failed && !evidence_error && !policy_failed && !cosign_failed;
      nlohmann::json nets = nlohmann::json::array();
      for (const auto& c : cosign) {
        nets.push_back(
            {{"meter", c.meter}, {"target", c.target}, {"passed", c.passed}, {"detail", c.detail}});
      }
      out["net_cosignatures"] = nets;
      out["evidence"] = evidence.ToJson();
      out["time"] = TimeSummary(result->claims);
      if (verdict) {
        out["policy"] = verdict->ToJson();
        out["policy"]["file"] = policy->source;
        if (!policy->name.empty()) out["policy"]["name"] = policy->name;
      }
    }
    if (!result->claims.is_null()) out["claims"] = result->claims;
    // A policy file may hold bytes that are not UTF-8 (names, peers): replaced, never thrown on.
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    PrintChecksTable(std::cout, *result);
    if (result->valid) {
      std::cout << "\n";
      PrintSubmodsTable(std::cout, result->claims["submods"]);
      std::cout << "\n";
      if (verdict) PrintPolicyTable(std::cout, *policy, *verdict);
      for (const auto& c : cosign) {
        std::cout << "cosign    " << c.meter << " " << c.target << ": " << (c.passed ? "ok, " : "FAILED, ")
                  << c.detail << "\n";
      }
      PrintEvidenceAppraisal(std::cout, evidence);
      PrintTimeLines(std::cout, result->claims);
    }
  }
  if (!result->valid) {
    std::cerr << "resmeter: report invalid: " << result->failure << "\n";
    return kExitInvalid;
  }
  if (evidence_error) return Fail(kExitUsage, "report evidence cannot be appraised: " + evidence.detail);
  if (evidence_failed) return Fail(kExitInvalid, "report evidence invalid: " + evidence.detail);
  if (cosign_failed) {
    return Fail(kExitInvalid, bad_cosign->meter + " " + bad_cosign->target +
                                  ": co-signature invalid: " + bad_cosign->detail);
  }
  if (policy_failed) {
    return Fail(kExitInvalid, "policy " + policy->source + " not met: " + std::to_string(verdict->failed()) +
                                  " of " + std::to_string(verdict->clauses.size()) +
                                  " clauses failed, first: " + FirstFailure(*verdict));
  }
  // The identity's hardware evidence must bind its key (see reporter/evidence_verifier.h).
  if (!args.identity.empty()) {
    return VerifyIdentityEvidence(*config, args.identity, args.at, args.allow_dev_evidence,
                                  args.json ? std::cerr : std::cout);
  }
  return kExitOk;
}

}  // namespace

void RegisterVerifyCommand(CLI::App& app, CliGlobals& globals, int* exit_code) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = app.add_subcommand(
      "verify",
      "check a report's signature, expiry, nonce and evidence; print its claims, time and policy verdict");
  cmd->add_option("report", args->report, "the report (JWS file, or - for standard input)")->required();
  cmd->add_option("--key", args->key, "the agent's public key as a JWK file (from `resmeter key show`)");
  cmd->add_option("--identity", args->identity, "the agent's identity document (from `resmeter identity`)");
  cmd->add_option("--nonce", args->nonce, "require this challenge nonce (hex)");
  cmd->add_option("--at", args->at,
                  "check validity at this time instead of now (Unix seconds or RFC 3339 UTC)");
  cmd->add_option(
      "--policy", args->policy,
      "policy file (YAML, see configs/policies/): print its clause table; exit 1 unless every clause holds");
  cmd->add_flag("--json", args->json, "print the result as JSON");
  cmd->add_flag("--allow-dev-evidence", args->allow_dev_evidence,
                "with --identity: accept development-mode (none) evidence");
  cmd->callback([&globals, exit_code, args]() { *exit_code = RunVerify(globals, *args); });
}

}  // namespace resmeter
