// `resmeter probe`: run meters once with a fresh in-memory key, write the
// signed report (and, with --identity-out, that key's identity), summarize.
#include <unistd.h>

#include <iostream>

#include "agent/commands.h"
#include "agent/report_producer.h"
#include "cli/summary_table.h"
#include "core/safe_dir.h"
#include "attester/evidence_claim.h"
#include "jose/key_origin.h"
#include "jose/key_store.h"
#include "report/report.h"

namespace resmeter {
namespace {

struct ProbeArgs {
  std::vector<std::string> only, skip;
  std::string nonce, output, identity_out;
  bool json = false;
};

int RunProbe(const CliGlobals& globals, const ProbeArgs& args) {
  auto config = globals.LoadConfig();
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  std::optional<std::string> nonce;
  if (!args.nonce.empty()) {
    auto n = NormalizeNonceHex(args.nonce);
    if (!n.ok()) return Fail(kExitUsage, n.status().message());
    nonce = *n;
  }
  // A fresh in-memory key for this run (never read from or written to disk).
  std::optional<std::string> planted;
  auto key = GenerateEphemeralKey(config->global.String("state_dir"),
                                  config->global.String("report.algorithm"), &planted);
  if (!key.ok()) return Fail(kExitUsage, key.status().message());
  if (planted) std::cerr << "resmeter: ignoring " << *planted << ": probe keys are ephemeral\n";
  if (!args.identity_out.empty()) {
    auto evidence = CollectEvidenceClaim(config->global, (*key)->Thumbprint(), std::string());
    if (!evidence.ok()) return Fail(kExitUsage, "evidence: " + evidence.status().message());
    const nlohmann::json doc = BuildIdentityDocument(**key, std::string(kKeyOriginEphemeral), *evidence,
                                                     DefaultEnv()->WallSeconds(), std::string());
    if (Status s = WriteFileAtomically(args.identity_out, doc.dump(2) + "\n", 0644); !s.ok())
      return Fail(kExitUsage, s.message());
  }
  auto selected = SelectMeters(args.only, args.skip,
                               [&](const MeterInfo& m) { return config->Meter(m.name).Bool("enabled"); });
  if (!selected.ok()) return Fail(kExitUsage, selected.status().message());

  const bool tty = ::isatty(STDERR_FILENO);
  size_t index = 0;
  const size_t total = selected->size();
  auto observer = [&](const std::string& what, const MeterRun* done) {
    if (!tty) return;
    if (done) {
      std::cerr << "\r\033[K";
    } else if (what.find(':') == std::string::npos) {
      std::cerr << "\r\033[K[" << ++index << "/" << total << "] " << what << " ..." << std::flush;
    } else {
      std::cerr << "\r\033[K[" << index << "/" << total << "] " << what << std::flush;
    }
  };
  auto report = ProduceReport(*config, PlanMeters(*config, *selected), nonce, **key, DefaultEnv(), observer);
  if (!report.ok()) return Fail(kExitUsage, report.status().message());

  if (!args.output.empty()) {
    // No trailing newline: the file is exactly the compact token, as JOSE tools expect.
    Status s = WriteFileAtomically(args.output, report->token, 0644);
    if (!s.ok()) return Fail(kExitUsage, s.message());
  }
  if (args.json) {
    std::cout << report->claims.dump(2) << "\n";
  } else if (args.output.empty()) {
    std::cout << report->token << "\n";
  }
  PrintSubmodsTable(std::cerr, report->claims["submods"]);
  PrintTrustLines(std::cerr, report->claims);
  if (!args.output.empty()) std::cerr << "report    written to " << args.output << "\n";
  if (!args.identity_out.empty()) std::cerr << "identity  written to " << args.identity_out << "\n";
  return kExitOk;
}

}  // namespace

void RegisterProbeCommand(CLI::App& app, CliGlobals& globals, int* exit_code) {
  auto args = std::make_shared<ProbeArgs>();
  auto* cmd = app.add_subcommand("probe", "run meters once and write a signed report (JWS)");
  cmd->add_option("--only", args->only, "run only these meters (comma-separated)")->delimiter(',');
  cmd->add_option("--skip", args->skip, "do not run these meters (comma-separated)")->delimiter(',');
  cmd->add_option("--nonce", args->nonce, "challenge to bind into the report (16-128 hex digits)");
  cmd->add_option("-o,--output", args->output, "write the JWS here instead of standard output");
  cmd->add_option("--identity-out", args->identity_out,
                  "write the identity document of this run's ephemeral key (evidence bound with no nonce)");
  cmd->add_flag("--json", args->json, "print the signed claims as JSON on standard output");
  cmd->callback([&globals, exit_code, args]() { *exit_code = RunProbe(globals, *args); });
}

}  // namespace resmeter
