// Claims of any shape as HTML tables: an object becomes name/value rows, an
// array of objects a table with one column per member, an array of scalars a
// comma list; nested values nest, up to a depth and a row count (a hostile
// report must not make a page without end). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace resmeter::html {

inline constexpr int kMaxClaimDepth = 6;
inline constexpr size_t kMaxClaimRows = 200;

// `value` (named `name`, whose suffix gives numbers their unit) as HTML.
std::string ClaimValueHtml(const std::string& name, const nlohmann::json& value, int depth = 0);
// An object's members as a two-column table (name, value).
std::string ClaimTableHtml(const nlohmann::json& object, int depth = 0);

}  // namespace resmeter::html
