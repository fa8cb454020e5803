// `resmeter verify REPORT`: appraise a report (report/report_appraisal.h)
// and render its one Verdict: tables then exactly one last line, ACCEPTED or
// REJECTED: <reasons> (human); one JSON object (json); an EAT Attestation
// Result, optionally signed (ear). Exit code = Verdict::ExitCode(): 0
// accepted, 1 rejected, 2 an input could not be appraised. Flag syntax
// errors (--at, --nonce, --format) exit 2 before any appraisal.
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/summary_table.h"
#include "core/base64url.h"
#include "core/env.h"
#include "core/strings.h"
#include "html/html_file.h"
#include "html/verify_page.h"
#include "jose/openssl_util.h"
#include "jose/signing_key.h"
#include "policy/policy.h"
#include "report/ear.h"
#include "report/report.h"
#include "report/report_appraisal.h"
#include "tsa/tsa_anchors.h"

namespace resmeter {
namespace {

struct VerifyArgs {
  std::string report, key, identity, nonce, at, policy, format = "human", sign_with, html;
  bool json = false;
  bool allow_dev_evidence = false;
  bool allow_fixture_roots = false;
};

// The time claim's assessment for --json: trusted, reason, error bound, source.
nlohmann::json TimeSummary(const nlohmann::json& claims) {
  if (!claims.contains("time") || !claims["time"].is_object())
    return {{"trusted", false}, {"reason", "no time claim"}};
  const nlohmann::json& t = claims["time"];
  nlohmann::json j = {
      {"trusted", t.contains("trusted") && t["trusted"].is_boolean() && t["trusted"].get<bool>()}};
  for (const char* key : {"reason", "error_bound_seconds", "max_error_bound_seconds", "source", "server",
                          "server_name", "nts_authenticated", "nts_certificate", "synchronized"}) {
    if (t.contains(key)) j[key] = t[key];
  }
  return j;
}

// The verdict and the details beside it, for --format json.
nlohmann::json JsonOutput(const ReportAppraisal& a, const std::optional<Policy>& policy) {
  nlohmann::json out = a.verdict.ToJson();
  if (!a.header.is_null()) out["header"] = a.header;
  if (a.claims.is_null()) return out;
  nlohmann::json nets = nlohmann::json::array();
  for (const auto& c : a.cosign) {
    nets.push_back({{"meter", c.meter}, {"target", c.target}, {"passed", c.passed}, {"detail", c.detail}});
  }
  out["net_cosignatures"] = nets;
  if (a.evidence) out["evidence"] = a.evidence->ToJson();
  out["time"] = TimeSummary(a.claims);
  if (a.policy && policy) {
    out["policy"] = a.policy->ToJson();
    out["policy"]["file"] = policy->source;
    if (!policy->name.empty()) out["policy"]["name"] = policy->name;
  }
  out["claims"] = a.claims;
  return out;
}

// Tables for people, then the one verdict line.
void PrintHuman(std::ostream& out, const ReportAppraisal& a, const std::optional<Policy>& policy) {
  PrintVerdictChecks(out, a.verdict, {"policy.", "cosign.", "evidence", "time"});
  if (!a.claims.is_null()) {
    out << "\n";
    if (a.claims.contains("submods")) PrintSubmodsTable(out, a.claims["submods"]);
    out << "\n";
    if (a.policy && policy) PrintPolicyTable(out, *policy, *a.policy);
    for (const auto& c : a.cosign) {
      out << "cosign    " << c.meter << " " << c.target << ": " << (c.passed ? "ok, " : "FAILED, ")
          << c.detail << "\n";
    }
    if (a.evidence) PrintEvidenceAppraisal(out, *a.evidence);
    PrintTimeLines(out, a.claims);
  }
  out << a.verdict.Line() << "\n";
}

// "policy:<name>#sha256:<hex of the file>", the EAR's appraisal policy id.
std::string PolicyId(const Policy& policy, const std::string& text) {
  std::string name = policy.name;
  if (name.empty()) name = policy.source.substr(policy.source.find_last_of('/') + 1);
  return "policy:" + name + "#sha256:" + HexEncode(Sha256(text));
}

int RunVerify(const CliGlobals& globals, VerifyArgs args) {
  auto config = globals.LoadConfig();
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  if (args.json) args.format = "json";
  if (!args.sign_with.empty() && args.format != "ear")
    return Fail(kExitUsage, "--sign-with needs --format ear");
  std::shared_ptr<SigningKey> ear_key;
  if (!args.sign_with.empty()) {
    auto k = SigningKey::LoadFromFile(args.sign_with);
    if (!k.ok()) return Fail(kExitUsage, "--sign-with: " + k.status().message());
    ear_key = *k;
  }

  AppraisalInputs in;
  in.allowed_algorithms = config->global.Strings("verify.allowed_algorithms");
  in.max_clock_skew_seconds = static_cast<double>(config->global.Int("verify.max_clock_skew_seconds"));
  in.now_unix_seconds = DefaultEnv()->WallSeconds();
  in.evidence.trust_anchors_dir = config->global.String("evidence.trust_anchors_dir");
  // Anchors of the report's RFC 3161 tokens: <trust_anchors_dir>/tsa/*.pem, as for `ledger audit`.
  if (!in.evidence.trust_anchors_dir.empty()) {
    auto tsa_anchors = TsaAnchors::LoadDir(in.evidence.trust_anchors_dir + "/tsa");
    if (!tsa_anchors.ok()) return Fail(kExitUsage, "TSA anchors: " + tsa_anchors.status().message());
    in.tsa_anchors = std::move(*tsa_anchors);
  }
  if (!args.at.empty()) {
    auto at = ParseTimeArgument(args.at);
    if (!at.ok()) return Fail(kExitUsage, "--at: " + at.status().message());
    in.now_unix_seconds = *at;
    in.evidence.at = static_cast<time_t>(*at);
  }
  if (!args.nonce.empty()) {
    auto n = NormalizeNonceHex(args.nonce);
    if (!n.ok()) return Fail(kExitUsage, n.status().message());
    in.expected_nonce_hex = *n;
  }
  in.allow_dev_evidence = args.allow_dev_evidence;
  in.allow_fixture_roots = args.allow_fixture_roots;

  // Unreadable or malformed inputs become input-error checks of the verdict.
  std::optional<Policy> policy;
  std::string policy_id;
  if (!args.policy.empty()) {
    auto p = LoadPolicyFile(args.policy);
    if (!p.ok()) {
      in.input_errors.push_back(p.status().message());
    } else {
      policy = std::move(*p);
      auto text = ReadInputFile(args.policy);
      policy_id = PolicyId(*policy, text.ok() ? *text : "");
      in.policy = &*policy;
    }
  }
  auto read = [&](const std::string& flag, const std::string& path, std::optional<std::string>& into) {
    if (path.empty()) return;
    auto text = ReadInputFile(path);
    if (text.ok()) {
      into = std::move(*text);
    } else {
      in.input_errors.push_back(flag + ": " + text.status().message());
    }
  };
  read("--key", args.key, in.key_jwk);
  in.key_name = args.key;
  read("--identity", args.identity, in.identity_json);
  in.identity_name = args.identity;
  std::optional<std::string> token;
  read("report", args.report, token);

  const ReportAppraisal a = AppraiseReportDetailed(token.value_or(""), in);
  const Verdict& v = a.verdict;
  if (!args.html.empty()) {
    // The page renders the same object --format json prints (html/verify_page.h).
    html::VerifyPageOptions page;
    page.report_name = args.report;
    page.policy_name = args.policy;
    page.generated_unix_seconds = DefaultEnv()->WallSeconds();
    if (Status s = html::WriteHtmlFile(args.html, html::RenderVerifyPage(JsonOutput(a, policy), page));
        !s.ok())
      return Fail(kExitUsage, s.message());
  }
  if (args.format == "json") {
    // A report or policy may hold bytes that are not UTF-8: replaced, never thrown on.
    std::cout << JsonOutput(a, policy).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else if (args.format == "ear") {
    EarOptions options;
    options.issued_at_unix_seconds = DefaultEnv()->WallSeconds();
    options.appraisal_policy_id = policy_id;
    const std::string ear =
        BuildEar(a, options).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (ear_key) {
      auto signed_ear = ear_key->SignCompact(ear);
      if (!signed_ear.ok()) return Fail(kExitUsage, "--sign-with: " + signed_ear.status().message());
      std::cout << *signed_ear << "\n";
    } else {
      std::cout << nlohmann::json::parse(ear).dump(2) << "\n";
    }
  } else {
    PrintHuman(std::cout, a, policy);
  }
  // Input that could not be appraised is also one line on stderr in every format (the rule for exit 2).
  if (v.input_error()) std::cerr << "resmeter: " << v.Reasons().front() << "\n";
  return v.ExitCode();
}

}  // namespace

void RegisterVerifyCommand(CLI::App& app, CliGlobals& globals, int* exit_code) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = app.add_subcommand(
      "verify",
      "appraise a report: signature, key binding, evidence, liveness, time, co-signatures, policy; "
      "end with ACCEPTED or REJECTED");
  cmd->add_option("report", args->report, "the report (JWS file, or - for standard input)")->required();
  cmd->add_option("--key", args->key,
                  "pin the agent's public key (JWK file); default: the report's own cnf.jwk, trusted only "
                  "through its hardware evidence");
  cmd->add_option(
      "--identity", args->identity,
      "pin the key of this identity document (from `resmeter identity`); its evidence is verified too");
  cmd->add_option("--nonce", args->nonce, "require this challenge nonce (hex)");
  cmd->add_option("--at", args->at,
                  "check validity at this time instead of now (Unix seconds or RFC 3339 UTC)");
  cmd->add_option("--policy", args->policy,
                  "policy file (YAML, see configs/policies/): print its clause table; REJECTED unless every "
                  "clause holds");
  cmd->add_option("--format", args->format, "output: human (tables, then the verdict line), json, or ear")
      ->check(CLI::IsMember({"human", "json", "ear"}));
  cmd->add_flag("--json", args->json, "same as --format json");
  cmd->add_option("--sign-with", args->sign_with,
                  "with --format ear: sign the EAR as a JWS with this PEM private key (EdDSA or ES384)");
  cmd->add_option(
      "--html", args->html,
      "also write the appraisal as one self-contained HTML page (verdict, policy clauses, evidence, "
      "time, one card per meter with plots)");
  cmd->add_flag("--allow-dev-evidence", args->allow_dev_evidence,
                "accept development-mode (none) evidence, as a warning");
  cmd->add_flag("--allow-fixture-roots", args->allow_fixture_roots,
                "accept a report whose meters read fixture trees (live: false), as a warning");
  cmd->callback([&globals, exit_code, args]() { *exit_code = RunVerify(globals, *args); });
}

}  // namespace resmeter
