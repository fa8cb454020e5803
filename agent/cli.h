// The `resmeter` command line: parses global options and dispatches to a
// subcommand. Exit codes: 0 success, 1 verification or policy failure,
// 2 usage, config or input error (one line on stderr).
#pragma once

namespace resmeter {

int RunCli(int argc, char** argv);

}  // namespace resmeter
