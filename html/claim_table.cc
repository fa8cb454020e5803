#include "html/claim_table.h"

#include <set>
#include <vector>

#include "html/html_text.h"

namespace resmeter::html {
namespace {

using json = nlohmann::json;

std::string More(size_t shown, size_t total) {
  return "<p class=\"note\">" + std::to_string(total - shown) + " more of " + std::to_string(total) +
         " not shown (see --json)</p>";
}

// An array of objects as one table: the union of their members as columns (in first-seen order).
std::string ObjectRows(const std::string& name, const nlohmann::json& array, int depth) {
  std::vector<std::string> columns;
  std::set<std::string> seen;
  for (const auto& e : array) {
    for (auto it = e.begin(); it != e.end() && columns.size() < 24; ++it)
      if (seen.insert(it.key()).second) columns.push_back(it.key());
  }
  std::string out = "<table class=\"nested\"><tr>";
  for (const auto& c : columns) out += "<th>" + Escape(c) + "</th>";
  out += "</tr>";
  size_t rows = 0;
  for (const auto& e : array) {
    if (rows++ == kMaxClaimRows) break;
    out += "<tr>";
    for (const auto& c : columns) {
      auto it = e.find(c);
      if (it == e.end()) {
        out += "<td></td>";
      } else {
        out += std::string(it->is_number() ? "<td class=\"num\">" : "<td>") +
               ClaimValueHtml(c, *it, depth + 1) + "</td>";
      }
    }
    out += "</tr>";
  }
  out += "</table>";
  if (array.size() > kMaxClaimRows) out += More(kMaxClaimRows, array.size());
  (void)name;
  return out;
}

}  // namespace

std::string ClaimValueHtml(const std::string& name, const nlohmann::json& value, int depth) {
  if (!value.is_structured()) return Escape(ClaimText(name, value));
  if (depth >= kMaxClaimDepth) return "<span class=\"muted\">(nested too deep; see --json)</span>";
  if (value.is_object() && value.contains("bins") && value["bins"].is_object()) {
    // A histogram (fio json+ layout): plotted on the card; the bins stay in the signed JSON.
    return Escape(std::to_string(value["bins"].size()) + " bins, " +
                  ClaimText("count", value.value("count", json())) +
                  " values, fio json+ layout (plotted above; every bin is in the signed report)");
  }
  if (value.is_object()) return ClaimTableHtml(value, depth + 1);
  if (value.empty()) return "<span class=\"muted\">none</span>";
  bool all_objects = true, all_scalars = true;
  for (const auto& e : value) {
    all_objects = all_objects && e.is_object();
    all_scalars = all_scalars && !e.is_structured();
  }
  // Long lists fold away: the plots show them, the table is for checking.
  const bool fold = value.size() > 12;
  const std::string open =
      fold ? "<details><summary>" + std::to_string(value.size()) + " entries</summary>" : "";
  const std::string close = fold ? "</details>" : "";
  if (all_objects) return open + ObjectRows(name, value, depth) + close;
  if (all_scalars) {
    std::string out = open;
    size_t n = 0;
    for (const auto& e : value) {
      if (n == kMaxClaimRows) break;
      out += (n++ ? ", " : "") + Escape(ClaimText(name, e));
    }
    if (value.size() > kMaxClaimRows) out += " ... (" + std::to_string(value.size()) + " values)";
    return out + close;
  }
  std::string out = "<ol class=\"nested\">";
  size_t n = 0;
  for (const auto& e : value) {
    if (n++ == kMaxClaimRows) break;
    out += "<li>" + ClaimValueHtml(name, e, depth + 1) + "</li>";
  }
  out += "</ol>";
  if (value.size() > kMaxClaimRows) out += More(kMaxClaimRows, value.size());
  return out;
}

std::string ClaimTableHtml(const nlohmann::json& object, int depth) {
  if (!object.is_object()) return ClaimValueHtml("", object, depth);
  if (depth >= kMaxClaimDepth) return "<span class=\"muted\">(nested too deep; see --json)</span>";
  std::string out = std::string("<table class=\"") + (depth > 0 ? "nested" : "claims") + "\">";
  size_t rows = 0;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (rows++ == kMaxClaimRows) break;
    const bool num = it.value().is_number();
    out += "<tr data-claim=\"" + Escape(it.key()) + "\"><th>" + Escape(it.key()) + "</th>" +
           (num ? "<td class=\"num\">" : "<td>") + ClaimValueHtml(it.key(), it.value(), depth) + "</td></tr>";
  }
  out += "</table>";
  if (object.size() > kMaxClaimRows) out += More(kMaxClaimRows, object.size());
  return out;
}

}  // namespace resmeter::html
