#include "agent/cli.h"

#include <cstdio>

namespace resmeter {

int RunCli(int, char**) {
  std::fprintf(stderr, "resmeter: not built yet\n");
  return 2;
}

}  // namespace resmeter
