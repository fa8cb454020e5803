// The agent's subcommands of `resmeter` (probe, agent, identity); the
// buyer's (verify, ledger, evidence, key, peer) and what all share: cli/commands.h.
#pragma once

#include <CLI/CLI.hpp>

#include "agent/config.h"
#include "cli/commands.h"

namespace resmeter {

void RegisterProbeCommand(CLI::App& app, CliGlobals& globals, int* exit_code);
void RegisterAgentCommand(CLI::App& app, CliGlobals& globals, int* exit_code);
void RegisterIdentityCommand(CLI::App& app, CliGlobals& globals, int* exit_code);

}  // namespace resmeter
