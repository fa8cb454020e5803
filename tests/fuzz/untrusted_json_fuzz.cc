// libFuzzer target: ParseUntrustedJson with a small depth and the default
// one. Must never crash, overflow the stack or throw; anything accepted must
// respect the depth bound (checked by walking the result) and dump.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/untrusted_json.h"

namespace {

// The nesting depth of a parsed value (iterative over siblings, recursive in depth, which is bounded).
size_t Depth(const nlohmann::json& j) {
  if (!j.is_structured()) return 0;
  size_t deepest = 0;
  for (const auto& child : j) deepest = std::max(deepest, Depth(child));
  return deepest + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (size_t max_depth : {size_t{3}, size_t{64}}) {
    resmeter::JsonLimits limits;
    limits.max_depth = max_depth;
    auto j = resmeter::ParseUntrustedJson(text, limits);
    if (!j.ok()) continue;
    if (Depth(*j) > max_depth) __builtin_trap();
    nlohmann::json copy = *j;
    (void)copy.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
