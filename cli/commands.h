// What every subcommand shares (globals, exit codes, input helpers) and the
// buyer's subcommands, which live here in cli/ so that resmeter-verify links
// without the agent (no meters, no hwloc, liburing or tss2-esys). Each command
// lives in <name>_command.cc and adds itself to the CLI11 app; its callback
// stores the exit code in *exit_code. The agent's commands: agent/commands.h.
// Exit codes: 0 success, 1 verification or policy failure, 2 usage, config
// or input error (one line on stderr, see Fail()).
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace resmeter {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;
inline constexpr int kExitUsage = 2;

// Global options, shared by every subcommand.
struct CliGlobals {
  std::string config_path;  // --config; empty: /etc/resmeter/resmeter.yaml if present, else defaults
  std::string state_dir;    // --state-dir (overrides state_dir)
  std::string proc_root;    // --proc-root (overrides paths.proc_root)
  std::string sys_root;     // --sys-root (overrides paths.sys_root)
  std::vector<std::string> sets;  // --set KEY=VALUE
  // The meters the config may configure: the registry's in `resmeter`, none
  // in resmeter-verify (config/config.h says what that means).
  const ConfigurableMeters* meters = nullptr;

  // The config with file, --set and flags applied in that order.
  Result<Config> LoadConfig() const;
};

// Prints "resmeter: <message>" on stderr and returns `code`.
int Fail(int code, const std::string& message);
// Reads a whole file, or standard input for "-". InvalidArgument / NotFound on failure.
Result<std::string> ReadInputFile(const std::string& path);
// Parses "1700000000", "1700000000.5" or "2026-11-22T10:00:00Z" into Unix seconds.
Result<double> ParseTimeArgument(const std::string& text);

void RegisterVerifyCommand(CLI::App& app, CliGlobals& globals, int* exit_code);
void RegisterLedgerCommand(CLI::App& app, CliGlobals& globals, int* exit_code);
void RegisterEvidenceCommand(CLI::App& app, CliGlobals& globals, int* exit_code);
// `key init|show` and `peer`: the buyer's persistent key and the co-signing network peer.
void RegisterKeyCommand(CLI::App& app, CliGlobals& globals, int* exit_code);
void RegisterPeerCommand(CLI::App& app, CliGlobals& globals, int* exit_code);

// The buyer's program (resmeter-verify): verify, ledger audit, evidence
// verify, key and peer.
int RunVerifierCli(int argc, char** argv);

}  // namespace resmeter
