// Small string helpers shared by parsers of /proc, /sys and config text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace resmeter {

// Removes leading and trailing ASCII whitespace.
std::string_view Trim(std::string_view s);
// Splits on any run of ASCII whitespace; no empty fields.
std::vector<std::string_view> SplitWhitespace(std::string_view s);
// Splits on a single character; keeps empty fields.
std::vector<std::string_view> Split(std::string_view s, char sep);
// Parses a whole string as a base-10 signed/unsigned integer or a double.
std::optional<int64_t> ParseInt64(std::string_view s);
std::optional<uint64_t> ParseUint64(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
// Lowercase hex of bytes, and its inverse (nullopt on odd length or bad digit).
std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);
// Formats a number for humans: "3.20 GHz", "15.6 GiB", "1.23 ms".
std::string FormatScaled(double value, std::string_view unit);
// True when `text` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates
// or code points above U+10FFFF), as nlohmann::json requires to dump it.
bool IsValidUtf8(std::string_view text);

}  // namespace resmeter
