// The agent's subcommands of `resmeter` (probe, agent, identity, claims); the
// buyer's (verify, ledger, evidence, key, peer) and what all share: cli/commands.h.
#pragma once

#include <CLI/CLI.hpp>

#include "agent/config.h"
#include "cli/commands.h"

namespace resmeter {

void RegisterProbeCommand(CLI::App& app, CliGlobals& globals, int* exit_code);
void RegisterAgentCommand(CLI::App& app, CliGlobals& globals, int* exit_code);
void RegisterIdentityCommand(CLI::App& app, CliGlobals& globals, int* exit_code);
void RegisterClaimsCommand(CLI::App& app, CliGlobals& globals, int* exit_code);
// In collector/ (library resmeter_collector, which depends on this one): the
// executable passes it to RunCli (agent/main.cc).
void RegisterCollectorCommand(CLI::App& app, CliGlobals& globals, int* exit_code);

}  // namespace resmeter
