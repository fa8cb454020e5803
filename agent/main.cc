// resmeter: the command-line entry point (see agent/cli.h); the collector's
// command comes from its own library (collector/), linked into the binary.
#include "agent/cli.h"
#include "agent/commands.h"

int main(int argc, char** argv) { return resmeter::RunCli(argc, argv, {resmeter::RegisterCollectorCommand}); }
