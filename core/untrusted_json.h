// ParseUntrustedJson: parses JSON that an adversary may have written (a
// report header, a peer frame, a state file on a disk the provider controls)
// with bounds checked BEFORE any parse or copy.
//
// nlohmann::json parses iteratively, but copying, comparing and dumping a
// value recurse once per nesting level, so a 4 MB "[[[[...]]]]" overflows the
// stack far from the parser. A linear pre-scan that understands strings and
// escapes (a bracket inside a string is not nesting) rejects input larger
// than `max_bytes` or nested deeper than `max_depth` first; the parse itself
// never throws. Pure and thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace resmeter {

struct JsonLimits {
  size_t max_bytes = 16 * 1024 * 1024;  // larger input: InvalidArgument
  size_t max_depth = 64;                // arrays/objects nested deeper: InvalidArgument
  std::string what = "JSON";            // names the input in messages ("JWS header")
};

// Returns the deepest array/object nesting in `text` and stops early (with
// *exceeded_at_byte set to the 0-based offset of the bracket too deep) once depth > max_depth.
// Brackets inside strings (with \" escapes) do not count.
size_t JsonNestingDepth(std::string_view text, size_t max_depth, size_t* exceeded_at_byte);

// Checks size and nesting, then parses `text`. InvalidArgument naming the
// limit and byte offset when a bound is exceeded ("JWS header: JSON nesting
// deeper than 64 levels at byte 65"); Corruption when it is not valid JSON.
Result<nlohmann::json> ParseUntrustedJson(std::string_view text, const JsonLimits& limits = {});

// The same, for callers that only need "JSON or not": a discarded value
// (is_discarded()) when a bound is exceeded or the text is not JSON.
nlohmann::json ParseUntrustedJsonOrDiscarded(std::string_view text, const JsonLimits& limits = {});

}  // namespace resmeter
