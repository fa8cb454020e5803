#include "html/ledger_page.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "core/json_fields.h"
#include "core/version.h"
#include "html/html_text.h"
#include "html/page_shell.h"
#include "html/svg_chart.h"

namespace resmeter::html {
namespace {

using json = nlohmann::json;

// Findings drawn on the timeline; the table lists up to kMaxFindingRows.
constexpr size_t kMaxFindingMarks = 40;
constexpr size_t kMaxFindingRows = 500;
constexpr size_t kMaxBands = 500;

double Num(const json& obj, const char* key, double fallback = 0) {
  const json& v = JsonMember(obj, key);
  return v.is_number() && std::isfinite(v.get<double>()) ? v.get<double>() : fallback;
}

std::string Str(const json& obj, const char* key, const std::string& fallback = "") {
  const json& v = JsonMember(obj, key);
  return v.is_string() ? v.get<std::string>() : fallback;
}

// The hour's start: "hour_unix_seconds", else parsed from "hour" (YYYY-MM-DDTHH:MM:SSZ).
bool HourStart(const json& h, double* out) {
  if (JsonMember(h, "hour_unix_seconds").is_number()) {
    *out = Num(h, "hour_unix_seconds");
    return true;
  }
  const std::string s = Str(h, "hour");
  struct tm tm = {};
  if (s.size() < 20 || strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return false;
  *out = static_cast<double>(timegm(&tm));
  return true;
}

std::string Hours(double h) { return Number(h, 6) + " h"; }

std::string Badge(bool ok, const std::string& text) {
  return std::string("<span class=\"badge ") + (ok ? "passed" : "failed") + "\">" + Escape(text) + "</span>";
}

std::string Banner(const json& a) {
  const bool accepted = Str(a, "verdict") == "ACCEPTED";
  std::string out = std::string("<section id=\"verdict\" class=\"verdict ") +
                    (accepted ? "accepted" : "rejected") + "\"><div class=\"word\">" +
                    (accepted ? "ACCEPTED" : "REJECTED") + "</div>";
  const json& reasons = JsonMember(a, "reasons");
  if (!accepted && reasons.is_array()) {
    out += "<ul class=\"reasons\">";
    for (const auto& r : reasons)
      if (r.is_string()) out += "<li>" + Escape(r.get<std::string>()) + "</li>";
    out += "</ul>";
  } else if (accepted) {
    out += "<div>Every signature and link verified; every epoch's evidence was accepted.</div>";
  }
  return out + "</section>\n";
}

std::string Totals(const json& a) {
  const json& b = JsonMember(a, "bill");
  auto row = [](const std::string& name, const std::string& value, const std::string& cls = "") {
    return "<tr" + (cls.empty() ? std::string() : " class=\"" + cls + "\"") + "><th>" + Escape(name) +
           "</th><td class=\"num\">" + Escape(value) + "</td></tr>";
  };
  std::string t = "<section class=\"panel\" id=\"totals\"><h3>Bill</h3><table class=\"claims\">";
  t += row("delivered vCPU-hours", Number(Num(b, "delivered_vcpu_hours"), 6));
  t += row("stolen vCPU-hours", Number(Num(b, "stolen_vcpu_hours"), 6));
  t += row("delivered vCPU-hours by reported steal", Number(Num(b, "steal_based_delivered_vcpu_hours"), 6));
  t += row("memory GiB-hours", Number(Num(b, "memory_gib_hours"), 6));
  t += row("GPU-hours", Number(Num(b, "gpu_hours"), 6));
  t += row("metered hours", Hours(Num(b, "covered_hours")));
  t += row("untrusted-time hours", Hours(Num(b, "untrusted_time_hours")),
           Num(b, "untrusted_time_hours") > 0 ? "warn" : "");
  t += row("restart gap hours", Hours(Num(b, "restart_gap_hours")),
           Num(b, "restart_gap_hours") > 0 ? "warn" : "");
  if (JsonMember(b, "policy_violation_hours").is_number())
    t += row("policy not met hours", Hours(Num(b, "policy_violation_hours")),
             Num(b, "policy_violation_hours") > 0 ? "fail" : "");
  t += row("unmeasured statements (billed from steal)", Number(Num(b, "unmeasured_statements"), 12));
  if (Num(b, "unauthenticated_statements") > 0)
    t += row("unauthenticated statements (not billed)", Number(Num(b, "unauthenticated_statements"), 12),
             "fail");
  t += "</table></section>";

  std::string c = "<section class=\"panel\" id=\"coverage\"><h3>Coverage</h3><table class=\"claims\">";
  c += row("statements", Number(Num(a, "statements"), 12) + " (seq " + Number(Num(a, "first_seq"), 15) +
                             ".." + Number(Num(a, "last_seq"), 15) + ")");
  c += row("signatures verified", Number(Num(a, "signatures_verified"), 12));
  c += row("epochs (agent starts)",
           std::to_string(JsonMember(a, "epochs").is_array() ? a["epochs"].size() : 0));
  if (JsonMember(b, "asked_hours").is_number()) {
    const double asked = Num(b, "asked_hours"), gap = Num(b, "coverage_gap_hours");
    c += row("period asked for",
             UtcText(Num(b, "from_unix_seconds")) + " .. " + UtcText(Num(b, "to_unix_seconds")));
    c += row("hours asked for", Hours(asked));
    c += row("coverage", asked > 0 ? Number(100 * (asked - gap) / asked, 4) + " %" : "-",
             gap > 0 ? "warn" : "");
    c += row("coverage gap", Hours(gap), gap > 0 ? "warn" : "");
  } else {
    c += row("period asked for", "the whole ledger (no --from/--to)");
  }
  c += row("audit time", UtcText(Num(a, "audit_time_unix_seconds")));
  return t + c + "</table></section>";
}

struct Hour {
  double start = 0;
  json totals;
};

std::vector<Band> Bands(const json& a) {
  std::vector<Band> out;
  for (const auto& u :
       JsonMember(a, "untrusted_periods").is_array() ? a["untrusted_periods"] : json::array()) {
    if (out.size() >= kMaxBands) break;
    out.push_back({Num(u, "start_unix_seconds"), Num(u, "end_unix_seconds"),
                   "untrusted time: " + Str(u, "reason"), "band"});
  }
  for (const auto& e : JsonMember(a, "epochs").is_array() ? a["epochs"] : json::array()) {
    const double from = Num(e, "gap_start_unix_seconds"), to = Num(e, "gap_end_unix_seconds");
    if (to > from && from > 0 && out.size() < kMaxBands)
      out.push_back({from, to, "restart gap: " + Str(e, "reason"), "band-gap"});
  }
  const json& violations = JsonMember(JsonMember(a, "policy"), "violations");
  if (violations.is_array()) {
    for (const auto& v : violations) {
      if (out.size() >= kMaxBands) break;
      out.push_back({Num(v, "start_unix_seconds"), Num(v, "end_unix_seconds"), "policy not met", "band-bad"});
    }
  }
  return out;
}

std::vector<Marker> FindingMarks(const json& a) {
  std::vector<Marker> out;
  const json& findings = JsonMember(a, "findings");
  if (!findings.is_array()) return out;
  for (const auto& f : findings) {
    if (!JsonMember(f, "after_unix_seconds").is_number()) continue;
    if (out.size() == kMaxFindingMarks) break;
    const bool error = Str(f, "severity") == "error";
    out.push_back({Num(f, "after_unix_seconds"), Str(f, "kind") + " seq " + Number(Num(f, "seq"), 15),
                   error ? 1 : 4, false});
  }
  return out;
}

std::string Timeline(const json& a) {
  std::vector<Hour> hours;
  const json& hs = JsonMember(a, "hours");
  if (hs.is_array()) {
    for (const auto& h : hs) {
      double start = 0;
      if (HourStart(h, &start)) hours.push_back({start, h});
    }
  }
  if (hours.empty())
    return "<section id=\"timeline\"><h2>Timeline</h2><p class=\"muted\">No billed hour.</p></section>";
  const std::vector<Band> bands = Bands(a);
  const std::vector<Marker> marks = FindingMarks(a);
  const json& b = JsonMember(a, "bill");
  std::vector<Marker> range;
  if (JsonMember(b, "from_unix_seconds").is_number())
    range.push_back({Num(b, "from_unix_seconds"), "from", 6, true});
  if (JsonMember(b, "to_unix_seconds").is_number())
    range.push_back({Num(b, "to_unix_seconds"), "to", 6, true});

  auto chart = [&](const std::string& id, const std::string& title, const Axis& y) {
    XyChart c;
    c.id = id;
    c.title = title;
    c.x = {"hour (UTC)", "", AxisScale::kTime};
    c.y = y;
    c.bands = bands;
    c.x_markers = range;
    c.x_markers.insert(c.x_markers.end(), marks.begin(), marks.end());
    c.width = 1040;
    c.height = 280;
    return c;
  };
  std::string out =
      "<section id=\"timeline\"><h2>Timeline (per UTC hour)</h2><p class=\"note\">Shaded: grey "
      "untrusted time, dark grey restart gaps, red policy not met. Lines: findings (red errors, "
      "orange warnings), the period asked for.</p>";
  XyChart cpu = chart("ledger.vcpu_hours", "vCPU-hours per hour: delivered, and stolen on top",
                      {"vCPU-hours", "", AxisScale::kLinear, true});
  Series total{"delivered + stolen", {}, SeriesStyle::kBars, 1};
  Series delivered{"delivered", {}, SeriesStyle::kBars, 0};
  for (const Hour& h : hours) {
    const double d = Num(h.totals, "delivered_vcpu_hours"), s = Num(h.totals, "stolen_vcpu_hours");
    total.points.push_back({h.start + 1800, d + s});
    delivered.points.push_back({h.start + 1800, d});
  }
  cpu.series = {total, delivered};
  out += RenderXyChart(cpu);
  XyChart mem = chart("ledger.memory_gib_hours", "Memory GiB-hours per hour",
                      {"GiB-hours", "", AxisScale::kLinear, true});
  Series m{"GiB-hours", {}, SeriesStyle::kBars, 2};
  XyChart gpu = chart("ledger.gpu_hours", "GPU-hours per hour", {"GPU-hours", "", AxisScale::kLinear, true});
  Series g{"GPU-hours", {}, SeriesStyle::kBars, 3};
  XyChart cov =
      chart("ledger.coverage", "Metered share of each hour", {"metered", "%", AxisScale::kLinear, true});
  Series cv{"metered", {}, SeriesStyle::kBars, 5};
  bool any_gpu = false;
  for (const Hour& h : hours) {
    m.points.push_back({h.start + 1800, Num(h.totals, "memory_gib_hours")});
    g.points.push_back({h.start + 1800, Num(h.totals, "gpu_hours")});
    any_gpu = any_gpu || Num(h.totals, "gpu_hours") > 0;
    cv.points.push_back({h.start + 1800, 100 * std::min(1.0, Num(h.totals, "covered_hours"))});
  }
  mem.series = {m};
  out += RenderXyChart(mem);
  if (any_gpu) {
    gpu.series = {g};
    out += RenderXyChart(gpu);
  }
  cov.series = {cv};
  out += RenderXyChart(cov);
  return out + "</section>\n";
}

std::string Epochs(const json& a) {
  const json& epochs = JsonMember(a, "epochs");
  if (!epochs.is_array() || epochs.empty()) return "";
  std::string out =
      "<section id=\"epochs\"><h2>Epochs (agent starts)</h2><table><tr><th>seq</th><th>key</th>"
      "<th>evidence</th><th>gap</th><th>reason</th></tr>";
  size_t n = 0;
  for (const auto& e : epochs) {
    if (n++ == kMaxFindingRows) break;
    const json& ok = JsonMember(e, "evidence_ok");
    const bool good = ok.is_boolean() && ok.get<bool>();
    out += std::string("<tr") + (good ? "" : " class=\"fail\"") + "><td class=\"num\">" +
           Number(Num(e, "seq"), 15) + "</td><td><code>" + Escape(Str(e, "kid")) + "</code> (" +
           Escape(Str(e, "key_origin")) + ")</td><td>" + Badge(good, Str(e, "evidence_type", "?")) + " " +
           Escape(Str(e, "evidence_detail")) + "</td><td>" +
           Escape(UtcText(Num(e, "gap_start_unix_seconds"))) + ", " + Number(Num(e, "gap_seconds"), 6) +
           " s</td><td>" + Escape(Str(e, "reason")) + "</td></tr>";
  }
  return out + "</table></section>\n";
}

std::string Findings(const json& a) {
  const json& findings = JsonMember(a, "findings");
  std::string out = "<section id=\"findings\"><h2>Findings</h2>";
  if (!findings.is_array() || findings.empty()) return out + "<p>None.</p></section>\n";
  out += "<table><tr><th>kind</th><th>seq</th><th>message</th></tr>";
  size_t n = 0;
  for (const auto& f : findings) {
    if (n++ == kMaxFindingRows) break;
    const bool error = Str(f, "severity") == "error";
    out += std::string("<tr class=\"") + (error ? "fail" : "warn") + "\"><td><code>" +
           Escape(Str(f, "kind")) + "</code></td><td class=\"num\">" + Number(Num(f, "seq"), 15) + ".." +
           Number(Num(f, "seq_end"), 15) + "</td><td>" + Escape(Str(f, "message")) + "</td></tr>";
  }
  out += "</table>";
  const double more = Num(a, "findings_not_listed") +
                      (findings.size() > kMaxFindingRows ? findings.size() - kMaxFindingRows : 0);
  if (more > 0) out += "<p class=\"note\">" + Number(more, 12) + " more findings not listed.</p>";
  return out + "</section>\n";
}

std::string PolicyViolations(const json& a) {
  const json& p = JsonMember(a, "policy");
  if (!p.is_object()) return "";
  const json& violations = JsonMember(p, "violations");
  const bool passed = JsonMember(p, "passed").is_boolean() && p["passed"].get<bool>();
  std::string out = "<section id=\"policy\"><h2>Policy " + Escape(Str(p, "name", Str(p, "file"))) + " " +
                    Badge(passed, passed ? "met" : "not met") + "</h2>";
  if (!violations.is_array() || violations.empty())
    return out + "<p>Met in every billed period.</p></section>\n";
  out += "<table><tr><th>period</th><th>seq</th><th>clause</th><th>ordered</th><th>measured</th></tr>";
  size_t n = 0;
  for (const auto& v : violations) {
    if (n++ == kMaxFindingRows) break;
    const json& clauses = JsonMember(v, "clauses");
    const json& first = clauses.is_array() && !clauses.empty() ? clauses[0] : json();
    out += "<tr class=\"fail\"><td>" + Escape(UtcText(Num(v, "start_unix_seconds"))) + " .. " +
           Escape(UtcText(Num(v, "end_unix_seconds"))) + "</td><td class=\"num\">" +
           Number(Num(v, "first_seq"), 15) + ".." + Number(Num(v, "last_seq"), 15) + "</td><td><code>" +
           Escape(Str(first, "name")) + "</code></td><td>" + Escape(Str(first, "required")) + "</td><td>" +
           Escape(Str(first, "measured")) + "</td></tr>";
  }
  return out + "</table></section>\n";
}

std::string Checks(const json& a) {
  const json& checks = JsonMember(a, "checks");
  if (!checks.is_array()) return "";
  std::string out =
      "<section id=\"checks\"><h2>Checks</h2><table><tr><th>check</th><th>outcome</th><th>detail</th></tr>";
  for (const auto& c : checks) {
    const std::string o = Str(c, "outcome");
    const bool ok = o == "passed" || o == "not_applicable";
    out += std::string("<tr") +
           (ok               ? ""
            : o == "warning" ? " class=\"warn\""
                             : " class=\"fail\"") +
           "><td><code>" + Escape(Str(c, "name")) + "</code></td><td>" + Badge(ok || o == "warning", o) +
           "</td><td>" + Escape(Str(c, "detail")) + "</td></tr>";
  }
  return out + "</table></section>\n";
}

}  // namespace

std::string RenderLedgerPage(const json& audit, const LedgerPageOptions& options) {
  std::string body = "<h1>resmeter usage ledger audit</h1>";
  body += Banner(audit);
  body += "<div class=\"panels\">" + Totals(audit) + "</div>";
  body += Timeline(audit);
  body += PolicyViolations(audit);
  body += Checks(audit);
  body += Epochs(audit);
  body += Findings(audit);
  body += "<footer>Generated by resmeter " + Escape(std::string(SoftwareVersion())) + " at " +
          Escape(UtcText(options.generated_unix_seconds)) +
          ". This page loads nothing from the network; the signed ledger is the reference.</footer>";
  return Page("resmeter ledger audit: " + Str(audit, "verdict", "REJECTED"), body);
}

}  // namespace resmeter::html
