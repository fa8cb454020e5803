// resmeter-verify: the buyer's entry point (see cli/commands.h).
#include "cli/commands.h"

int main(int argc, char** argv) { return resmeter::RunVerifierCli(argc, argv); }
