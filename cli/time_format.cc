// Formatting of the `time` claim for humans.
#include "cli/time_format.h"

#include "core/json_fields.h"
#include "core/strings.h"

namespace resmeter {
namespace {

// "1.23 ms" for a numeric member, or "" when absent.
std::string Seconds(const nlohmann::json& t, const char* key) {
  if (!t.contains(key) || !t[key].is_number()) return "";
  return FormatScaled(t[key].get<double>(), "s");
}

}  // namespace

std::vector<std::string> DescribeTimeClaim(const nlohmann::json& t) {
  std::vector<std::string> lines;
  if (!t.is_object()) return {"no time claim"};
  const bool trusted = JsonBool(t, "trusted", false);
  std::string first = trusted ? "trusted" : "untrusted";
  std::string detail = JsonString(t, "source", "?");
  if (t.contains("server") && t["server"].is_string()) {
    const std::string server = t["server"];
    detail += std::string(": ") + (JsonBool(t, "nts_authenticated", false) ? "NTS" : "unauthenticated") +
              " server " + (server.empty() ? "none" : server);
    // As a double: a hostile 1e300 must not be cast to int (undefined behaviour).
    if (t.contains("stratum") && t["stratum"].is_number()) detail += ", stratum " + t["stratum"].dump();
    if (t.contains("leap_status") && t["leap_status"].is_string()) {
      detail += ", leap " + t["leap_status"].get<std::string>();
    }
  }
  first += " (" + detail + ")";
  lines.push_back(first);
  if (!trusted && t.contains("reason") && t["reason"].is_string()) {
    lines.push_back("reason: " + t["reason"].get<std::string>());
  }
  std::string bound = Seconds(t, "error_bound_seconds");
  if (!bound.empty()) {
    std::string line = "error bound " + bound;
    std::string limit = Seconds(t, "max_error_bound_seconds");
    if (!limit.empty()) line += " (limit " + limit + ")";
    std::vector<std::pair<const char*, const char*>> parts = {{"offset", "offset_seconds"},
                                                              {"root delay", "root_delay_seconds"},
                                                              {"root dispersion", "root_dispersion_seconds"},
                                                              {"last update", "since_last_update_seconds"}};
    std::string sep = ": ";
    for (const auto& [label, key] : parts) {
      std::string v = Seconds(t, key);
      if (v.empty()) continue;
      line += sep + label + " " + v + (std::string(key) == "since_last_update_seconds" ? " ago" : "");
      sep = ", ";
    }
    lines.push_back(line);
  }
  return lines;
}

}  // namespace resmeter
