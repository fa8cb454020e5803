#include "agent/claim_tables.h"

#include <initializer_list>

#include "agent/usage_accountant.h"
#include "claims/claim_check.h"
#include "meters/registry/registry.h"
#include "policy/policy_claims.h"

namespace resmeter {
namespace {

// "`{kernel}_bytes_per_second`" and "kernel: copy, scale, add, triad".
std::string ShownKey(std::string_view key, std::string* values) {
  std::string out;
  size_t i = 0;
  while (i < key.size()) {
    const size_t open = key.find('{', i);
    const size_t close = open == std::string_view::npos ? open : key.find('}', open);
    if (close == std::string_view::npos) {
      out += key.substr(i);
      break;
    }
    out += key.substr(i, open - i);
    std::string_view body = key.substr(open + 1, close - open - 1);
    const size_t colon = body.find(':');
    const std::string name(body.substr(0, colon));
    out += "{" + name + "}";
    if (colon != std::string_view::npos) {
      std::string v(body.substr(colon + 1));
      if (v == "#") v = "a number";
      for (size_t p = v.find('|'); p != std::string::npos; p = v.find('|', p)) v.replace(p, 1, ", ");
      *values += (values->empty() ? "" : "; ") + name + ": " + v;
    }
    i = close + 1;
  }
  return out;
}

// Concatenation by appends (GCC 12 reports a false -Wrestrict on "literal" + std::string&&).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

std::string Code(std::string_view s) { return s.empty() ? "" : Cat({"`", s, "`"}); }

// Policy names of a spec, as written in the declaration ("a, b").
std::vector<std::string> PolicyNames(const ClaimSpec& spec) {
  std::vector<std::string> out;
  std::string_view rest = spec.policy_name;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    if (!name.empty()) out.emplace_back(name);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

}  // namespace

std::vector<std::string> ClaimReaders(const ClaimSpec& spec) {
  std::vector<std::string> out;
  for (const PolicyClaimSpec& p : PolicyClaimTable())
    if (p.claim == &spec) out.push_back(Cat({"policy ", p.name}));
  if (!spec.metric.empty()) out.push_back(Cat({"metric ", spec.metric}));
  for (const ClaimSpec* s : UsageAccountant::ClaimsRead())
    if (s == &spec) out.push_back("usage accountant");
  return out;
}

std::string DescribeClaim(const ClaimSpec& spec) {
  std::string out = spec.Name();
  const auto readers = ClaimReaders(spec);
  if (readers.empty()) return out + " (read by no policy, metric or bill)";
  out += " (read by ";
  for (size_t i = 0; i < readers.size(); ++i) out += (i ? ", " : "") + readers[i];
  return out + ")";
}

std::string RenderMeterClaimTable() {
  std::string out =
      "| meter | claim | type | unit | meaning | policy | metric |\n"
      "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const MeterInfo& m : MeterRegistry()) {
    for (const ClaimSpec* s : m.claims) {
      std::string values;
      std::string key = ShownKey(s->key, &values);
      std::string meaning(s->meaning);
      if (!values.empty()) meaning += " (" + values + ")";
      if (!s->legacy_key.empty()) meaning += Cat({"; older agents: `", s->legacy_key, "`"});
      std::string policy;
      for (const std::string& p : PolicyNames(*s)) policy += (policy.empty() ? "" : ", ") + Code(p);
      std::string metric = Code(s->metric);
      if (!s->metric.empty()) {
        std::string labels;
        for (const std::string& p : s->Placeholders()) labels += (labels.empty() ? "" : ",") + p;
        const std::string_view el = s->element_label;
        if (!el.empty())
          labels = std::string(el.substr(0, el.find('='))) + (labels.empty() ? "" : "," + labels);
        if (!labels.empty()) metric = Cat({"`", s->metric, "{", labels, "}`"});
      }
      out += Cat({"| `", m.name, "` | `", key, "` | ", ClaimTypeName(s->type), " | ", s->unit, " | ", meaning,
                  " | ", policy, " | ", metric, " |\n"});
    }
  }
  return out;
}

std::string RenderPolicyClaimTable() {
  std::string out =
      "| claim | unit | qualifier | from the report |\n"
      "| --- | --- | --- | --- |\n";
  for (const PolicyClaimSpec& p : PolicyClaimTable()) {
    std::string unit = p.unit;
    if (unit.empty()) {
      const std::string name = p.name;
      unit = p.kind == PolicyValueKind::kText                                     ? "text"
             : name.size() > 6 && name.compare(name.size() - 6, 6, "_ratio") == 0 ? "0..1"
                                                                                  : "count";
    }
    std::string qualifier;
    if (p.qualifier == PolicyQualifier::kQueueDepth) qualifier = "`queue_depth` (required)";
    if (p.qualifier == PolicyQualifier::kPeer) qualifier = "`peer` (optional, from `peers:`)";
    out += Cat({"| `", p.name, "` | ", unit, " | ", qualifier, " | ", PolicyClaimSource(p), " |\n"});
  }
  return out;
}

std::string ExplainClaims(const std::string& meter, const nlohmann::json& claims) {
  const MeterInfo* info = FindMeter(meter);
  if (info == nullptr) return meter + ": not a meter of the registry";
  const std::vector<std::string> problems = CheckClaimsAgainstDeclarations(info->claims, claims);
  if (problems.empty()) return "";
  std::string out = meter + ":";
  bool undeclared = false;
  for (const std::string& p : problems) {
    out += " " + p + ";";
    undeclared |= p.rfind("undeclared", 0) == 0;
  }
  if (!undeclared || !claims.is_object()) return out;
  std::string missing;
  for (const ClaimSpec* s : info->claims) {
    if (s->IsElement() || ClaimReaders(*s).empty()) continue;
    bool emitted = false;
    for (const auto& item : claims.items()) emitted |= MatchClaimKey(*s, item.key());
    if (!emitted) missing += (missing.empty() ? "" : "; ") + DescribeClaim(*s);
  }
  if (!missing.empty()) out += " declared but not emitted: " + missing;
  return out;
}

std::string GeneratedSection(const std::string& text, const std::string& name) {
  const std::string begin = "<!-- BEGIN generated: " + name + " -->\n";
  const std::string end = "<!-- END generated: " + name + " -->";
  const size_t b = text.find(begin);
  if (b == std::string::npos) return "";
  const size_t e = text.find(end, b + begin.size());
  if (e == std::string::npos) return "";
  return text.substr(b + begin.size(), e - b - begin.size());
}

}  // namespace resmeter
