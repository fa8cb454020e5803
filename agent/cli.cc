#include "agent/cli.h"

#include "agent/commands.h"
#include "cli/cli_app.h"
#include "core/temp_path_registry.h"

namespace resmeter {

int RunCli(int argc, char** argv) {
  // Meters register scratch files (disk.io); SIGINT/SIGTERM/SIGHUP remove them, then re-raise.
  if (Status s = InstallTempPathCleanupOnSignals(); !s.ok()) return Fail(kExitUsage, s.message());
  CLI::App app{"resmeter: measure the resources a VM really gets, and sign what was measured", "resmeter"};
  CliGlobals globals;
  globals.meters = &RegisteredConfigurableMeters();
  AddConfigOptions(app, globals);
  app.add_option("--proc-root", globals.proc_root, "root of procfs (default /proc)");
  app.add_option("--sys-root", globals.sys_root, "root of sysfs (default /sys)");

  int exit_code = kExitOk;
  RegisterProbeCommand(app, globals, &exit_code);
  RegisterVerifyCommand(app, globals, &exit_code);
  RegisterKeyCommand(app, globals, &exit_code);
  RegisterAgentCommand(app, globals, &exit_code);
  RegisterLedgerCommand(app, globals, &exit_code);
  RegisterPeerCommand(app, globals, &exit_code);
  RegisterIdentityCommand(app, globals, &exit_code);
  RegisterEvidenceCommand(app, globals, &exit_code);

  return ParseAndRun(app, argc, argv, exit_code);
}

}  // namespace resmeter
