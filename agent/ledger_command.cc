// `resmeter ledger audit LEDGER...`: verify a usage ledger offline and print the bill.
#include <cstdio>
#include <iostream>
#include <memory>

#include "agent/commands.h"
#include "agent/ledger_output.h"
#include "reporter/ledger_audit.h"
#include "reporter/ledger_files.h"
#include "reporter/ledger_policy.h"

namespace resmeter {
namespace {

struct LedgerAuditArgs {
  std::vector<std::string> ledgers;
  std::string identity, key, policy, from, to;
  bool json = false, csv = false;
};

// The agent's public key from --identity (a document with "jwk") or --key (a JWK).
Result<std::shared_ptr<const PublicKey>> LoadAuditKey(const LedgerAuditArgs& args) {
  if (args.key.empty() == args.identity.empty()) {
    return Status::InvalidArgument("give exactly one of --identity FILE or --key JWK_FILE");
  }
  const bool identity = !args.identity.empty();
  const std::string& path = identity ? args.identity : args.key;
  RESMETER_ASSIGN_OR_RETURN(std::string text, ReadInputFile(path));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Status::InvalidArgument(path + ": not a JSON object");
  if (identity) {
    auto it = doc.find("jwk");
    if (it == doc.end() || !it->is_object()) return Status::InvalidArgument(path + ": identity document has no 'jwk' object");
    doc = *it;
  }
  auto key = PublicKey::FromJwk(doc);
  if (!key.ok()) return key.status().WithContext(path);
  return key;
}

// "0.250".
std::string Fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

int RunLedgerAudit(const LedgerAuditArgs& args) {
  if (args.json && args.csv) return Fail(kExitUsage, "ledger audit: give at most one of --json and --csv");
  // The policy's ledger-expressible clauses are judged per usage period.
  std::unique_ptr<LedgerPolicyAssessor> assessor;
  if (!args.policy.empty()) {
    auto policy = LoadPolicyFile(args.policy);
    if (!policy.ok()) return Fail(kExitUsage, policy.status().message());
    assessor = std::make_unique<LedgerPolicyAssessor>(std::move(*policy));
  }
  auto key = LoadAuditKey(args);
  if (!key.ok()) return Fail(kExitUsage, key.status().message());
  LedgerAuditOptions options;
  for (auto [text, out, name] : {std::tuple{&args.from, &options.from_unix_seconds, "--from"},
                                 std::tuple{&args.to, &options.to_unix_seconds, "--to"}}) {
    if (text->empty()) continue;
    auto t = ParseTimeArgument(*text);
    if (!t.ok()) return Fail(kExitUsage, std::string(name) + ": " + t.status().message());
    *out = *t;
  }
  if (options.from_unix_seconds && options.to_unix_seconds && *options.to_unix_seconds <= *options.from_unix_seconds) {
    return Fail(kExitUsage, "ledger audit: --to must be after --from");
  }
  if (assessor) {
    options.policy_violated = [a = assessor.get()](const LedgerStatement& s) { return a->Assess(s); };
  }
  auto files = ExpandLedgerPaths(args.ledgers);
  if (!files.ok()) return Fail(kExitUsage, files.status().message());
  auto result = AuditLedger(*files, **key, options);
  if (!result.ok()) return Fail(kExitUsage, result.status().message());
  if (args.json) {
    std::cout << LedgerAuditToJson(*result, *files, assessor.get())
                     .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else if (args.csv) {
    PrintLedgerBillCsv(std::cout, *result);
  } else {
    PrintLedgerAudit(std::cout, *result, *files, (*key)->thumbprint(), assessor.get());
  }
  if (!result->clean()) {
    std::cerr << "resmeter: ledger has " << result->errors << " integrity problem" << (result->errors == 1 ? "" : "s");
    if (!result->findings.empty()) std::cerr << ", first: " << result->findings.front().message;
    std::cerr << "\n";
    return kExitInvalid;
  }
  if (assessor && !assessor->violations().empty()) {
    const auto& v = assessor->violations().front();
    std::cerr << "resmeter: policy " << assessor->policy().source << " not met in "
              << Fixed3(result->bill.totals.policy_violation_hours.value_or(0)) << " hours, first at seq "
              << v.first_seq << ": " << v.failures.front().name << " (required " << v.failures.front().required
              << ", measured " << v.failures.front().Measured() << ")\n";
    return kExitInvalid;
  }
  return kExitOk;
}

}  // namespace

void RegisterLedgerCommand(CLI::App& app, CliGlobals& /*globals*/, int* exit_code) {
  auto* ledger = app.add_subcommand("ledger", "work with usage ledgers");
  ledger->require_subcommand(1);
  auto args = std::make_shared<LedgerAuditArgs>();
  auto* audit = ledger->add_subcommand("audit", "verify a usage ledger (signatures, chain, sequence, time) and print the bill");
  audit->add_option("ledger", args->ledgers, "ledger files or directories (their ledger-*.jsonl files, in order)")->required();
  audit->add_option("--identity", args->identity, "the agent's identity document (a JSON object with a 'jwk' member)");
  audit->add_option("--key", args->key, "the agent's public key as a JWK file (from `resmeter key show`)");
  audit->add_option("--policy", args->policy, "policy file: list its violations per period and bill the hours it was not met");
  audit->add_option("--from", args->from, "bill from this time (Unix seconds or YYYY-MM-DDTHH:MM:SSZ)");
  audit->add_option("--to", args->to, "bill up to this time (Unix seconds or YYYY-MM-DDTHH:MM:SSZ)");
  audit->add_flag("--json", args->json, "print the audit as JSON");
  audit->add_flag("--csv", args->csv, "print the bill as CSV, one row per UTC hour and a total");
  audit->callback([exit_code, args]() { *exit_code = RunLedgerAudit(*args); });
}

}  // namespace resmeter
