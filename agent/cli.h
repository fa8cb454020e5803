// The `resmeter` command line: parses global options and dispatches to a
// subcommand. Exit codes: 0 success, 1 verification or policy failure,
// 2 usage, config or input error (one line on stderr).
#pragma once

#include <CLI/CLI.hpp>
#include <vector>

namespace resmeter {

struct CliGlobals;
// Registers a subcommand that lives in a library above this one (the collector).
using CommandRegistrar = void (*)(CLI::App& app, CliGlobals& globals, int* exit_code);

int RunCli(int argc, char** argv, const std::vector<CommandRegistrar>& more_commands = {});

}  // namespace resmeter
