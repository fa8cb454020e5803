// The parts of a CLI11 program that `resmeter` and `resmeter-verify` share.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace resmeter {

// --version, --config, --set and --state-dir; one subcommand required.
void AddConfigOptions(CLI::App& app, CliGlobals& globals);
// Parses argv (running the chosen subcommand's callback) and returns its exit
// code; help and version exit 0, a usage error is one line and exit 2.
int ParseAndRun(CLI::App& app, int argc, char** argv, const int& exit_code);

}  // namespace resmeter
