#include "html/html_text.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/strings.h"

namespace resmeter::html {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence starting at text[i], 0 if none.
size_t Utf8Length(std::string_view text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;  // no surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return 0;
  }
  return n;
}

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t n = Utf8Length(text, i);
      if (n == 0) {
        out += kReplacement;
        ++i;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\t':
      case '\n':
        out += static_cast<char>(c);
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += kReplacement;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out;
}

std::string Number(double value, int digits) {
  if (!std::isfinite(value)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, value);
  return buf;
}

std::string WithUnit(double value, std::string_view unit) {
  if (!std::isfinite(value)) return "-";
  if (unit == "B" || unit == "B/s" || unit == "s" || unit == "Hz" || unit == "bit/s" || unit == "FLOP/s")
    return FormatScaled(value, unit);
  if (unit.empty()) return Number(value, 6);
  return Number(value, 6) + " " + std::string(unit);
}

std::string UnitOfClaim(std::string_view name) {
  if (EndsWith(name, "_bytes_per_second")) return "B/s";
  if (EndsWith(name, "_bytes")) return "B";
  if (EndsWith(name, "_seconds")) return "s";
  if (EndsWith(name, "_hz")) return "Hz";
  if (EndsWith(name, "_bps")) return "bit/s";
  if (EndsWith(name, "_flops")) return "FLOP/s";
  return "";
}

std::string ClaimText(std::string_view name, const nlohmann::json& value) {
  if (value.is_number_integer() && UnitOfClaim(name).empty()) return value.dump();
  if (value.is_number()) return WithUnit(value.get<double>(), UnitOfClaim(name));
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_null()) return "null";
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string UtcText(double unix_seconds) {
  if (!std::isfinite(unix_seconds) || std::fabs(unix_seconds) > 1e13) return "-";
  const time_t t = static_cast<time_t>(std::floor(unix_seconds));
  struct tm tm;
  if (gmtime_r(&t, &tm) == nullptr) return "-";
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

}  // namespace resmeter::html
