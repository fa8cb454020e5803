#include "cli/summary_table.h"

#include <algorithm>
#include <cstdio>

#include "core/json_fields.h"
#include "core/strings.h"
#include "cli/time_format.h"

namespace resmeter {

std::string FormatClaimValue(const std::string& name, const nlohmann::json& value) {
  if (value.is_number()) {
    const double v = value.get<double>();
    if (EndsWith(name, "_bytes")) return FormatScaled(v, "B");
    if (EndsWith(name, "_bytes_per_second")) return FormatScaled(v, "B/s");
    if (EndsWith(name, "_hz")) return FormatScaled(v, "Hz");
    if (EndsWith(name, "_bps")) return FormatScaled(v, "bit/s");
    if (EndsWith(name, "_seconds")) return FormatScaled(v, "s");
    if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
    if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
  }
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_null()) return "null";
  std::string s = value.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Claims come from a report someone else signed: every member is read with
// its type checked (core/json_fields.h), never with value()/get(), which throw.
void PrintSubmodsTable(std::ostream& out, const nlohmann::json& submods) {
  if (!submods.is_object()) return;
  char line[256];
  for (auto it = submods.begin(); it != submods.end(); ++it) {
    const auto& m = it.value();
    std::snprintf(line, sizeof line, "%-20s %-12s %8.2f s", it.key().c_str(),
                  JsonString(m, "status", "?").c_str(), JsonNumber(m, "duration_seconds", 0.0));
    out << line;
    if (m.is_object() && m.contains("reason")) out << "  " << FormatClaimValue("reason", m["reason"]);
    out << "\n";
    if (!m.is_object()) continue;
    if (m.contains("claims") && m["claims"].is_object()) {
      for (auto c = m["claims"].begin(); c != m["claims"].end(); ++c) {
        if (c.value().is_structured()) continue;  // nested detail: see --json
        out << "    " << c.key() << " = " << FormatClaimValue(c.key(), c.value()) << "\n";
      }
    }
    if (m.contains("findings") && m["findings"].is_array()) {
      for (const auto& f : m["findings"]) {
        out << "    ! " << JsonString(f, "code", "") << ": " << JsonString(f, "message", "") << "\n";
      }
    }
  }
}

void PrintTimeLines(std::ostream& out, const nlohmann::json& claims) {
  if (claims.contains("time") && claims["time"].is_object()) {
    const auto lines = DescribeTimeClaim(claims["time"]);
    for (size_t i = 0; i < lines.size(); ++i) out << (i == 0 ? "time      " : "          ") << lines[i] << "\n";
  } else {
    out << "time      no time claim: untrusted\n";
  }
}

void PrintEvidenceAppraisal(std::ostream& out, const EvidenceAppraisal& appraisal) {
  out << "evidence  " << appraisal.Describe() << "\n";
}

void PrintPolicyTable(std::ostream& out, const Policy& policy, const PolicyVerdict& verdict) {
  out << "policy    " << policy.source;
  if (!policy.name.empty()) out << " (" << policy.name << ")";
  out << ": " << (verdict.passed ? "PASSED" : "FAILED") << ", " << verdict.clauses.size() - verdict.failed() << " of "
      << verdict.clauses.size() << " clauses met\n";
  // Columns as wide as their longest entry (peer-qualified names run long).
  size_t name_w = 6, req_w = 8;
  for (const auto& c : verdict.clauses) {
    name_w = std::max(name_w, c.name.size());
    req_w = std::max(req_w, c.required.size());
  }
  auto row = [&](const std::string& mark, const std::string& name, const std::string& req, const std::string& got) {
    out << "  " << mark << std::string(5 - std::min<size_t>(mark.size(), 4), ' ') << name
        << std::string(name_w - name.size() + 1, ' ') << req << std::string(req_w - req.size() + 1, ' ') << got << "\n";
  };
  row("", "clause", "required", "measured");
  for (const auto& c : verdict.clauses) row(c.passed ? "ok" : "FAIL", c.name, c.required, c.measured);
}

void PrintTrustLines(std::ostream& out, const nlohmann::json& claims) {
  if (claims.contains("time") && claims["time"].is_object()) PrintTimeLines(out, claims);
  if (claims.contains("evidence") && claims["evidence"].is_object()) {
    const auto& e = claims["evidence"];
    out << "evidence  " << JsonString(e, "type", "?");
    if (e.contains("reason") && e["reason"].is_string()) out << " (" << e["reason"].get<std::string>() << ")";
    out << "\n";
  }
}

void PrintChecksTable(std::ostream& out, const ReportVerification& v) {
  for (const auto& c : v.checks) {
    char line[64];
    std::snprintf(line, sizeof line, "%-10s %-5s ", c.name.c_str(), c.passed ? "ok" : "FAIL");
    out << line << c.detail << "\n";
  }
  out << (v.valid ? "VALID" : "INVALID: " + v.failure) << "\n";
}

void PrintVerdictChecks(std::ostream& out, const Verdict& verdict,
                        const std::vector<std::string>& skip_prefixes) {
  size_t width = 10;
  for (const Check& c : verdict.checks()) width = std::max(width, c.name.size());
  for (const Check& c : verdict.checks()) {
    if (std::any_of(skip_prefixes.begin(), skip_prefixes.end(),
                    [&](const std::string& p) { return StartsWith(c.name, p); })) {
      continue;
    }
    const char* mark = "ok";
    switch (c.outcome) {
      case CheckOutcome::kPassed:
        mark = "ok";
        break;
      case CheckOutcome::kFailed:
        mark = "FAIL";
        break;
      case CheckOutcome::kWarning:
        mark = "warn";
        break;
      case CheckOutcome::kNotApplicable:
        mark = "n/a";
        break;
      case CheckOutcome::kError:
        mark = "ERROR";
        break;
    }
    out << c.name << std::string(width - c.name.size() + 1, ' ') << mark
        << std::string(6 - std::string(mark).size(), ' ') << c.detail << "\n";
  }
}

}  // namespace resmeter
