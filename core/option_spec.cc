#include "core/option_spec.h"

#include <cstdio>
#include <cstdlib>

namespace resmeter {

const nlohmann::json& Options::At(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    std::fprintf(stderr, "resmeter: fatal: option '%s' was never declared\n", key.c_str());
    std::abort();
  }
  return *it;
}

}  // namespace resmeter
