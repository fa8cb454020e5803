// `resmeter ledger audit LEDGER...`: verify a usage ledger v2 offline, print
// the bill and one verdict line (ACCEPTED / REJECTED: reasons).
#include <cstdio>
#include <iostream>
#include <memory>

#include "core/untrusted_json.h"
#include "cli/commands.h"
#include "cli/ledger_output.h"
#include "ledger/ledger_audit.h"
#include "ledger/ledger_files.h"
#include "ledger/ledger_policy.h"
#include "policy/policy_evidence.h"
#include "core/verdict.h"

namespace resmeter {
namespace {

struct LedgerAuditArgs {
  std::vector<std::string> ledgers;
  std::string identity, policy, from, to, anchors;
  bool json = false, csv = false, allow_dev_evidence = false;
  unsigned threads = 0;
};

// An identity document --identity pins: its kid and its evidence verdict.
struct IdentityPin {
  std::string kid;
  Status evidence;  // ok, or why its evidence failed
  std::string evidence_detail;
};

// Reads and appraises the --identity document. InvalidArgument (exit 2) when
// it is not an identity document at all.
Result<IdentityPin> LoadIdentityPin(const std::string& path, const EvidenceVerifyOptions& options) {
  RESMETER_ASSIGN_OR_RETURN(std::string text, ReadInputFile(path));
  nlohmann::json doc = ParseUntrustedJsonOrDiscarded(text);
  if (doc.is_discarded() || !doc.is_object()) return Status::InvalidArgument(path + ": not a JSON object");
  auto jwk = doc.find("jwk");
  if (jwk == doc.end() || !jwk->is_object())
    return Status::InvalidArgument(path + ": identity document has no 'jwk' object");
  auto evidence = doc.find("evidence");
  if (evidence == doc.end() || !evidence->is_object())
    return Status::InvalidArgument(path + ": identity document has no 'evidence' object");
  auto key = PublicKey::FromJwk(*jwk);
  if (!key.ok()) return key.status().WithContext(path);
  IdentityPin pin;
  pin.kid = (*key)->thumbprint();
  if (doc.contains("nonce") && !doc["nonce"].is_string())
    return Status::InvalidArgument(path + ": identity document 'nonce' is not a string");
  // Evidence that does not verify (garbage included) rejects; exit 1.
  auto v = VerifyIdentityDocument(doc, std::nullopt, options);
  if (v.ok()) {
    pin.evidence_detail = v->type;
  } else {
    pin.evidence = v.status();
  }
  return pin;
}

// "0.250".
std::string Fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

int RunLedgerAudit(const CliGlobals& globals, const LedgerAuditArgs& args) {
  if (args.json && args.csv) return Fail(kExitUsage, "ledger audit: give at most one of --json and --csv");
  // The policy's ledger-expressible clauses are judged per usage period.
  std::unique_ptr<LedgerPolicyAssessor> assessor;
  if (!args.policy.empty()) {
    auto policy = LoadPolicyFile(args.policy);
    if (!policy.ok()) return Fail(kExitUsage, policy.status().message());
    assessor = std::make_unique<LedgerPolicyAssessor>(std::move(*policy));
  }
  const Policy* policy = assessor ? &assessor->policy() : nullptr;
  EvidenceVerifyOptions base;
  if (!args.anchors.empty()) {
    base.trust_anchors_dir = args.anchors;
  } else if (auto config = globals.LoadConfig(); config.ok()) {
    base.trust_anchors_dir = config->global.String("evidence.trust_anchors_dir");
  }
  base.allow_none = args.allow_dev_evidence;
  LedgerAuditOptions options;
  options.evidence = EvidenceOptionsFromPolicy(policy, base);
  options.accepted_key_origins = AcceptedKeyOrigins(policy);
  options.threads = args.threads;
  std::optional<IdentityPin> pin;
  if (!args.identity.empty()) {
    auto loaded = LoadIdentityPin(args.identity, options.evidence);
    if (!loaded.ok()) return Fail(kExitUsage, loaded.status().message());
    pin = std::move(*loaded);
  }
  for (auto [text, out, name] : {std::tuple{&args.from, &options.from_unix_seconds, "--from"},
                                 std::tuple{&args.to, &options.to_unix_seconds, "--to"}}) {
    if (text->empty()) continue;
    auto t = ParseTimeArgument(*text);
    if (!t.ok()) return Fail(kExitUsage, std::string(name) + ": " + t.status().message());
    *out = *t;
  }
  if (options.from_unix_seconds && options.to_unix_seconds &&
      *options.to_unix_seconds <= *options.from_unix_seconds) {
    return Fail(kExitUsage, "ledger audit: --to must be after --from");
  }
  if (assessor) {
    options.policy_violated = [a = assessor.get()](const LedgerStatement& s) { return a->Assess(s); };
  }
  auto files = ExpandLedgerPaths(args.ledgers);
  if (!files.ok()) return Fail(kExitUsage, files.status().message());
  auto result = AuditLedger(*files, options);
  if (!result.ok()) return Fail(kExitUsage, result.status().message());

  Verdict verdict = LedgerAuditVerdict(*result);
  if (pin) {
    verdict.Add("identity.evidence", pin->evidence.ok() ? CheckOutcome::kPassed : CheckOutcome::kFailed,
                pin->evidence.ok() ? "kid " + pin->kid + ", evidence " + pin->evidence_detail
                                   : args.identity + ": " + pin->evidence.message());
    bool found = false;
    for (const auto& e : result->epochs) found = found || e.kid == pin->kid;
    verdict.Add("identity.pin", found ? CheckOutcome::kPassed : CheckOutcome::kFailed,
                found ? "kid " + pin->kid + " is an epoch key of the ledger"
                      : "kid " + pin->kid + " (" + args.identity + ") is none of the ledger's " +
                            std::to_string(result->epochs.size()) + " epoch keys");
  }
  if (assessor) {
    const auto& violations = assessor->violations();
    if (violations.empty()) {
      verdict.Add("policy", CheckOutcome::kPassed, "met in every billed period");
    } else {
      const auto& v = violations.front();
      verdict.Add("policy", CheckOutcome::kFailed,
                  assessor->policy().source + " not met in " +
                      Fixed3(result->bill.totals.policy_violation_hours.value_or(0)) +
                      " hours, first at seq " + std::to_string(v.first_seq) + ": " + v.failures.front().name +
                      " (required " + v.failures.front().required + ", measured " +
                      v.failures.front().Measured() + ")");
    }
  }
  if (args.json) {
    nlohmann::json out = LedgerAuditToJson(*result, *files, assessor.get());
    out.update(verdict.ToJson());
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else if (args.csv) {
    PrintLedgerBillCsv(std::cout, *result);
    std::cerr << verdict.Line() << "\n";
  } else {
    PrintLedgerAudit(std::cout, *result, *files, assessor.get());
    std::cout << verdict.Line() << "\n";
  }
  return verdict.ExitCode();
}

}  // namespace

void RegisterLedgerCommand(CLI::App& app, CliGlobals& globals, int* exit_code) {
  auto* ledger = app.add_subcommand("ledger", "work with usage ledgers");
  ledger->require_subcommand(1);
  auto args = std::make_shared<LedgerAuditArgs>();
  auto* audit = ledger->add_subcommand(
      "audit",
      "verify a usage ledger (signatures, chain, epochs and their evidence, periods) and print the bill");
  audit
      ->add_option("ledger", args->ledgers,
                   "ledger files or directories (their ledger-*.jsonl files, in order)")
      ->required();
  audit->add_option(
      "--identity", args->identity,
      "pin: an agent identity document whose evidence must verify and whose kid must be an epoch key");
  audit->add_option(
      "--policy", args->policy,
      "policy file: evidence pins and key origins for the epochs; list its violations per period");
  audit->add_flag("--allow-dev-evidence", args->allow_dev_evidence,
                  "accept epochs with evidence 'none' (development mode; never for billing)");
  audit->add_option("--anchors", args->anchors,
                    "trust-anchor directory (default evidence.trust_anchors_dir)");
  audit->add_option("--threads", args->threads, "threads verifying signatures (default: every core)");
  audit->add_option("--from", args->from, "bill from this time (Unix seconds or YYYY-MM-DDTHH:MM:SSZ)");
  audit->add_option("--to", args->to, "bill up to this time (Unix seconds or YYYY-MM-DDTHH:MM:SSZ)");
  audit->add_flag("--json", args->json, "print the audit as JSON (with verdict and reasons)");
  audit->add_flag("--csv", args->csv, "print the bill as CSV, one row per UTC hour and a total");
  audit->callback([&globals, exit_code, args]() { *exit_code = RunLedgerAudit(globals, *args); });
}

}  // namespace resmeter
