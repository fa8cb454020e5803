// Runs a shell command line for integration tests and captures its standard
// output. The caller adds any redirection (" 2>&1", " 2>FILE"). Stateless;
// safe from several threads.
#pragma once

#include <stdio.h>
#include <sys/wait.h>

#include <string>

namespace resmeter {

// Runs `command_line` with popen(3); returns its exit status (-1 when it did
// not start or did not exit normally) and, when `out` is given, its stdout.
inline int RunShellCommand(const std::string& command_line, std::string* out = nullptr) {
  FILE* p = ::popen(command_line.c_str(), "r");
  if (p == nullptr) return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  const int status = ::pclose(p);
  if (out) *out = std::move(text);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace resmeter
