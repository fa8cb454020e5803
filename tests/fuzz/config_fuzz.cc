// libFuzzer target: the YAML config parser (ParseConfig) and `--set`
// overrides on arbitrary text. Must never crash, and never let a yaml-cpp or
// nlohmann exception escape: every bad input is an InvalidArgument.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = resmeter::ParseConfig(text, "fuzz.yaml");
  // The first line as a KEY=VALUE override on the defaults, as --set reads it.
  resmeter::Config defaults = resmeter::DefaultConfig();
  (void)resmeter::ApplyConfigOverride(defaults, text.substr(0, text.find('\n')));
  if (config.ok()) (void)config->global.json().dump();
  return 0;
}
