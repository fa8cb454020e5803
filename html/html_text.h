// Text helpers for the HTML pages: escaping of untrusted strings and
// number formatting with units. Everything a page shows from a report or a
// ledger was written by the party being measured, so every string goes
// through Escape() (element text and attribute values alike). Pure
// functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace resmeter::html {

// `text` safe inside element content and quoted attribute values: & < > " '
// become entities, other control characters (except tab and newline) become
// U+FFFD, and so do bytes that are not well-formed UTF-8.
std::string Escape(std::string_view text);

// A number in at most `digits` significant digits ("%.*g"), "-" for a
// non-finite value.
std::string Number(double value, int digits = 4);

// A number with its unit scaled (FormatScaled): "B" and "B/s" in binary
// prefixes, "s" down to ns, "Hz", "bit/s", ...; other units appended as is.
std::string WithUnit(double value, std::string_view unit);

// The unit a claim name carries in its suffix ("_bytes" -> "B",
// "_bytes_per_second" -> "B/s", "_seconds" -> "s", "_hz" -> "Hz",
// "_bps" -> "bit/s", "_ratio" -> ""), "" when none.
std::string UnitOfClaim(std::string_view name);

// A claim value for people: numbers with the unit of the name, strings as
// they are, booleans, null; structured values as compact JSON (callers show
// nested values as tables instead).
std::string ClaimText(std::string_view name, const nlohmann::json& value);

// "2027-01-15 08:00:00Z" for Unix seconds (fractions dropped).
std::string UtcText(double unix_seconds);

}  // namespace resmeter::html
