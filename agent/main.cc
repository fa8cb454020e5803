// resmeter: the command-line entry point (see agent/cli.h).
#include "agent/cli.h"

int main(int argc, char** argv) { return resmeter::RunCli(argc, argv); }
