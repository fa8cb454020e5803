#include "html/verify_page.h"

#include <cstdio>

#include "core/json_fields.h"
#include "core/version.h"
#include "html/claim_table.h"
#include "html/html_text.h"
#include "html/meter_plots.h"
#include "html/page_shell.h"

namespace resmeter::html {
namespace {

using json = nlohmann::json;

std::string Str(const json& obj, const char* key, const std::string& fallback = "") {
  const json& v = JsonMember(obj, key);
  return v.is_string() ? v.get<std::string>() : fallback;
}

// A class name from a fixed set, so no report text reaches a class attribute.
std::string OutcomeClass(const std::string& outcome) {
  for (const char* known : {"passed", "failed", "warning", "not_applicable", "error", "ok", "unavailable"})
    if (outcome == known) return known;
  return "other";
}

std::string Badge(const std::string& text) {
  return "<span class=\"badge " + OutcomeClass(text) + "\">" + Escape(text) + "</span>";
}

std::string Row(const std::string& name, const std::string& value_html) {
  return "<tr><th>" + Escape(name) + "</th><td>" + value_html + "</td></tr>";
}

std::string VerdictBanner(const json& v) {
  const bool accepted = Str(v, "verdict") == "ACCEPTED";
  std::string out = std::string("<section id=\"verdict\" class=\"verdict ") +
                    (accepted ? "accepted" : "rejected") + "\"><div class=\"word\">" +
                    (accepted ? "ACCEPTED" : "REJECTED") + "</div>";
  const json& reasons = JsonMember(v, "reasons");
  if (!accepted && reasons.is_array() && !reasons.empty()) {
    out += "<ul class=\"reasons\">";
    for (const auto& r : reasons)
      if (r.is_string()) out += "<li>" + Escape(r.get<std::string>()) + "</li>";
    out += "</ul>";
  } else if (accepted) {
    out += "<div>Every check passed";
    out += JsonMember(v, "policy").is_object() ? " and every policy clause holds.</div>" : ".</div>";
  }
  return out + "</section>\n";
}

std::string Overview(const json& v, const VerifyPageOptions& o) {
  const json& c = JsonMember(v, "claims");
  std::string t = "<table class=\"claims\">";
  t += Row("report", "<code>" + Escape(o.report_name) + "</code>");
  if (!o.policy_name.empty()) t += Row("policy", "<code>" + Escape(o.policy_name) + "</code>");
  const json& header = JsonMember(v, "header");
  if (header.is_object())
    t += Row("signature",
             Escape(Str(header, "alg", "?")) + ", key <code>" + Escape(Str(header, "kid", "?")) + "</code>");
  if (c.is_object()) {
    double iat = 0, exp = 0;
    if (JsonMember(c, "iat").is_number()) iat = JsonMember(c, "iat").get<double>();
    if (JsonMember(c, "exp").is_number()) exp = JsonMember(c, "exp").get<double>();
    t += Row("issued", Escape(UtcText(iat)) + ", expires " + Escape(UtcText(exp)));
    t += Row("software", Escape(Str(c, "swname", "?") + " " + Str(c, "swversion", "")));
    t += Row("key origin", Escape(Str(c, "key_origin", "?")));
    const json& live = JsonMember(c, "live");
    t += Row("live",
             live.is_boolean()
                 ? (live.get<bool>() ? "true: meters read /proc and /sys"
                                     : "false: " + Escape(ClaimText("", JsonMember(c, "not_live_reasons"))))
                 : "missing");
    if (c.contains("eat_nonce"))
      t += Row("nonce", "<code>" + Escape(ClaimText("", c["eat_nonce"])) + "</code>");
  } else {
    t += Row("claims", "<span class=\"muted\">not shown: the signature did not verify</span>");
  }
  return "<section class=\"panel\" id=\"overview\"><h3>Report</h3>" + t + "</table></section>";
}

std::string EvidencePanel(const json& v) {
  const json& e = JsonMember(v, "evidence");
  std::string out = "<section class=\"panel\" id=\"evidence\"><h3>Evidence</h3>";
  if (!e.is_object()) return out + "<p class=\"muted\">not appraised</p></section>";
  out += "<table class=\"claims\">";
  out += Row("type", Escape(Str(e, "type", "?")));
  out += Row("status", Badge(Str(e, "status", "?")));
  const json& trusted = JsonMember(e, "trusted");
  out += Row("trusted", trusted.is_boolean() && trusted.get<bool>() ? "yes" : "no");
  out += Row("detail", Escape(Str(e, "detail")));
  if (e.contains("measurement"))
    out += Row("measurement", "<code>" + Escape(Str(e, "measurement")) + "</code>");
  out += "</table>";
  if (e.contains("verdict"))
    out += "<details><summary>verifier output</summary>" + ClaimTableHtml(e["verdict"], 1) + "</details>";
  return out + "</section>";
}

std::string TimePanel(const json& v) {
  const json& t = JsonMember(v, "time");
  std::string out = "<section class=\"panel\" id=\"time\"><h3>Time</h3>";
  if (!t.is_object()) return out + "<p class=\"muted\">no time assessment</p></section>";
  const json& trusted = JsonMember(t, "trusted");
  const bool ok = trusted.is_boolean() && trusted.get<bool>();
  out += "<p>" + Badge(ok ? "passed" : "failed") + (ok ? " trusted" : " not trusted") + "</p>";
  out += ClaimTableHtml(t, 1);
  const json& claim = JsonMember(JsonMember(v, "claims"), "time");
  if (claim.is_object())
    out += "<details><summary>signed time claim</summary>" + ClaimTableHtml(claim, 1) + "</details>";
  return out + "</section>";
}

std::string PolicyTable(const json& v, const VerifyPageOptions& o) {
  const json& p = JsonMember(v, "policy");
  if (!p.is_object()) return "";
  const json& clauses = JsonMember(p, "clauses");
  const json& passed = JsonMember(p, "passed");
  const bool ok = passed.is_boolean() && passed.get<bool>();
  std::string name = Str(p, "name", Str(p, "file", o.policy_name));
  std::string out =
      "<section id=\"policy\"><h2>Policy " + Escape(name) + " " + Badge(ok ? "passed" : "failed") +
      "</h2><table class=\"clauses\"><tr><th></th><th>clause</th><th>ordered</th><th>measured</th></tr>";
  if (clauses.is_array()) {
    for (const auto& c : clauses) {
      const json& cp = JsonMember(c, "passed");
      const bool cok = cp.is_boolean() && cp.get<bool>();
      out += std::string("<tr class=\"clause") + (cok ? "" : " fail") + "\" data-clause=\"" +
             Escape(Str(c, "name")) + "\"><td>" + Badge(cok ? "passed" : "failed") + "</td><td><code>" +
             Escape(Str(c, "name")) + "</code></td><td>" + Escape(Str(c, "required")) + "</td><td>" +
             Escape(Str(c, "measured")) + "</td></tr>";
    }
  }
  return out + "</table></section>\n";
}

std::string ChecksTable(const json& v) {
  const json& checks = JsonMember(v, "checks");
  if (!checks.is_array()) return "";
  std::string out =
      "<section id=\"checks\"><h2>Checks</h2><table class=\"checks\"><tr><th>check</th><th>outcome</th>"
      "<th>detail</th></tr>";
  for (const auto& c : checks) {
    const std::string outcome = Str(c, "outcome");
    const char* cls = outcome == "failed" || outcome == "error" ? " class=\"fail\""
                      : outcome == "warning"                    ? " class=\"warn\""
                                                                : "";
    out += std::string("<tr") + cls + "><td><code>" + Escape(Str(c, "name")) + "</code></td><td>" +
           Badge(outcome) + "</td><td>" + Escape(Str(c, "detail")) + "</td></tr>";
  }
  return out + "</table></section>\n";
}

std::string Cosignatures(const json& v) {
  const json& n = JsonMember(v, "net_cosignatures");
  if (!n.is_array() || n.empty()) return "";
  std::string out =
      "<section id=\"cosign\"><h2>Network peers' co-signatures</h2><table><tr><th>meter</th><th>peer</th>"
      "<th></th><th>detail</th></tr>";
  for (const auto& c : n) {
    const json& p = JsonMember(c, "passed");
    const bool ok = p.is_boolean() && p.get<bool>();
    out += "<tr><td>" + Escape(Str(c, "meter")) + "</td><td><code>" + Escape(Str(c, "target")) +
           "</code></td><td>" + Badge(ok ? "passed" : "failed") + "</td><td>" + Escape(Str(c, "detail")) +
           "</td></tr>";
  }
  return out + "</table></section>\n";
}

std::string MeterCard(const std::string& name, const json& m, const json& submods,
                      const std::vector<ClauseBound>& bounds, const json& verify) {
  const std::string status = Str(m, "status", "?");
  std::string out = "<article class=\"card meter\" data-meter=\"" + Escape(name) + "\" data-status=\"" +
                    Escape(status) + "\"><header><h3>" + Escape(name) + "</h3>" + Badge(status);
  char dur[64] = "";
  if (JsonMember(m, "duration_seconds").is_number())
    std::snprintf(dur, sizeof dur, "%.2f s", JsonMember(m, "duration_seconds").get<double>());
  out += "<span class=\"muted\">" + Escape(dur);
  if (JsonMember(m, "measured_at").is_number())
    out += ", measured " + Escape(UtcText(m["measured_at"].get<double>()));
  if (m.contains("trigger")) out += ", trigger " + Escape(Str(m, "trigger", "?"));
  out += "</span></header>";
  if (m.contains("reason"))
    out +=
        "<p class=\"reason\"><strong>Reason:</strong> " + Escape(ClaimText("reason", m["reason"])) + "</p>";
  // Policy clauses about this meter's checks are listed by the policy table; failed checks naming it here.
  const json& checks = JsonMember(verify, "checks");
  if (checks.is_array()) {
    std::string fails;
    for (const auto& c : checks) {
      const std::string cn = Str(c, "name");
      const std::string oc = Str(c, "outcome");
      if ((oc == "failed" || oc == "error") && cn.find(name) != std::string::npos)
        fails += "<li><code>" + Escape(cn) + "</code>: " + Escape(Str(c, "detail")) + "</li>";
    }
    if (!fails.empty()) out += "<ul class=\"findings\">" + fails + "</ul>";
  }
  const json& findings = JsonMember(m, "findings");
  if (findings.is_array() && !findings.empty()) {
    out += "<h4>Findings</h4><ul class=\"findings\">";
    size_t n = 0;
    for (const auto& f : findings) {
      if (n++ == 100) break;
      out += "<li><code>" + Escape(Str(f, "code")) + "</code>: " + Escape(Str(f, "message")) + "</li>";
    }
    out += "</ul>";
  }
  for (const std::string& plot : MeterPlots(name, m, submods, bounds)) out += plot;
  const json& claims = JsonMember(m, "claims");
  if (claims.is_object() && !claims.empty()) out += "<h4>Claims</h4>" + ClaimTableHtml(claims);
  const json& conditions = JsonMember(m, "conditions");
  if (conditions.is_object() && !conditions.empty())
    out += "<details><summary>Conditions (how it was measured)</summary>" + ClaimTableHtml(conditions, 1) +
           "</details>";
  return out + "</article>\n";
}

}  // namespace

std::string RenderVerifyPage(const json& verify, const VerifyPageOptions& options) {
  const json& claims = JsonMember(verify, "claims");
  const json& submods = JsonMember(claims, "submods");
  std::string body = "<h1>resmeter report appraisal</h1>";
  body += VerdictBanner(verify);
  body += PolicyTable(verify, options);
  body += "<div class=\"panels\">" + Overview(verify, options) + EvidencePanel(verify) + TimePanel(verify) +
          "</div>";
  body += ChecksTable(verify);
  body += Cosignatures(verify);
  if (submods.is_object()) {
    const std::vector<ClauseBound> bounds = ParseClauseBounds(JsonMember(verify, "policy"));
    body += "<section id=\"meters\"><h2>Meters</h2>";
    size_t ok = 0;
    for (auto it = submods.begin(); it != submods.end(); ++it) ok += Str(it.value(), "status") == "ok";
    body += "<p class=\"muted\">" + std::to_string(ok) + " of " + std::to_string(submods.size()) +
            " meters measured; numbers are what the agent signed, plotted as signed.</p>";
    for (auto it = submods.begin(); it != submods.end(); ++it)
      body += MeterCard(it.key(), it.value(), submods, bounds, verify);
    body += "</section>";
  }
  body += "<footer>Generated by resmeter " + Escape(std::string(SoftwareVersion())) + " at " +
          Escape(UtcText(options.generated_unix_seconds)) +
          ". This page loads nothing from the network; the signed report is the reference.</footer>";
  return Page("resmeter: " + Str(verify, "verdict", "REJECTED") + " " + options.report_name, body);
}

}  // namespace resmeter::html
