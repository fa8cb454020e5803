#include "cli/cli_app.h"
#include "cli/commands.h"

namespace resmeter {

int RunVerifierCli(int argc, char** argv) {
  CLI::App app{"resmeter-verify: check resmeter reports, usage ledgers and hardware evidence (the buyer's tools)",
               "resmeter-verify"};
  CliGlobals globals;  // no meters: a config's `meters:` section is ignored
  AddConfigOptions(app, globals);
  int exit_code = kExitOk;
  RegisterVerifyCommand(app, globals, &exit_code);
  RegisterLedgerCommand(app, globals, &exit_code);
  RegisterEvidenceCommand(app, globals, &exit_code);
  RegisterKeyCommand(app, globals, &exit_code);
  RegisterPeerCommand(app, globals, &exit_code);
  return ParseAndRun(app, argc, argv, exit_code);
}

}  // namespace resmeter
