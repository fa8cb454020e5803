#include "core/untrusted_json.h"

namespace resmeter {

size_t JsonNestingDepth(std::string_view text, size_t max_depth, size_t* exceeded_at_byte) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) deepest = depth;
        if (depth > max_depth) {
          if (exceeded_at_byte) *exceeded_at_byte = i;
          return depth;
        }
        break;
      case ']':
      case '}':
        // Unbalanced closers are the parser's to reject; never wrap around.
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

Result<nlohmann::json> ParseUntrustedJson(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Status::InvalidArgument(limits.what + ": " + std::to_string(text.size()) +
                                   " bytes, more than the " + std::to_string(limits.max_bytes) + " allowed");
  }
  size_t at = 0;
  if (JsonNestingDepth(text, limits.max_depth, &at) > limits.max_depth) {
    return Status::InvalidArgument(limits.what + ": JSON nesting deeper than " +
                                   std::to_string(limits.max_depth) + " levels at byte " +
                                   std::to_string(at + 1));
  }
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption(limits.what + ": not valid JSON");
  return j;
}

nlohmann::json ParseUntrustedJsonOrDiscarded(std::string_view text, const JsonLimits& limits) {
  auto parsed = ParseUntrustedJson(text, limits);
  return parsed.ok() ? std::move(*parsed) : nlohmann::json(nlohmann::json::value_t::discarded);
}

}  // namespace resmeter
