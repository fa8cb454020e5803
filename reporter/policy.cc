#include "reporter/policy.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "reporter/policy_claims.h"

namespace resmeter {
namespace {

// Evidence types a policy may accept (reporter/evidence.h wire names).
const char* const kEvidenceTypes[] = {"sev-snp", "tdx", "tpm2", "none"};

// The message with control characters (a newline in a quoted YAML scalar
// echoed back) escaped, so every error stays one line.
std::string OneLine(const std::string& message) {
  std::string out;
  for (char c : message) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

// Parses one policy file; every method returns the first error as
// "SOURCE:LINE: message".
class PolicyParser {
 public:
  explicit PolicyParser(std::string source) : source_(std::move(source)) {}

  Result<Policy> Parse(const YAML::Node& root) {
    Policy p;
    p.source = source_;
    if (!root.IsDefined() || root.IsNull()) return Status::InvalidArgument(source_ + ": the policy is empty");
    if (!root.IsMap())
      return Error(root, "expected a mapping of policy keys at the top, got " + Describe(root));
    bool any = false;
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "name") {
        RESMETER_ASSIGN_OR_RETURN(p.name, String(v, key));
      } else if (key == "description") {
        RESMETER_ASSIGN_OR_RETURN(p.description, String(v, key));
      } else if (key == "max_report_age_seconds") {
        RESMETER_ASSIGN_OR_RETURN(double age, Positive(v, key));
        p.max_report_age_seconds = age;
        p.max_report_age_line = Line(v);
        any = true;
      } else if (key == "time") {
        RESMETER_RETURN_IF_ERROR(ParseTime(v, &p));
        any = true;
      } else if (key == "evidence") {
        RESMETER_RETURN_IF_ERROR(ParseEvidence(v, &p));
        any = true;
      } else if (key == "claims") {
        RESMETER_RETURN_IF_ERROR(ParseClaims(v, &p));
        any = any || !p.clauses.empty();
      } else {
        return Error(kv.first,
                     "unknown key '" + key +
                         "' (known: name, description, max_report_age_seconds, time, evidence, claims)");
      }
    }
    if (!any)
      return Error(root, "the policy requires nothing (no claims, time, evidence or max_report_age_seconds)");
    return p;
  }

 private:
  static int Line(const YAML::Node& n) { return n.Mark().line < 0 ? 0 : n.Mark().line + 1; }

  Status Error(const YAML::Node& n, const std::string& message) const {
    std::string where = source_;
    if (const int line = Line(n); line > 0) where.append(":").append(std::to_string(line));
    return Status::InvalidArgument(OneLine(where.append(": ").append(message)));
  }

  static std::string Describe(const YAML::Node& n) {
    if (n.IsScalar()) return "'" + n.Scalar() + "'";
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a mapping";
    return "nothing";
  }

  Result<std::string> String(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) return Error(n, "key '" + key + "': expected a string, got " + Describe(n));
    return n.Scalar();
  }

  Result<double> NumberOf(const YAML::Node& n, const std::string& key) const {
    const std::string text = n.IsScalar() ? n.Scalar() : "";
    size_t used = 0;
    double v = 0;
    bool ok = !text.empty() && !std::isspace(static_cast<unsigned char>(text[0]));
    if (ok) {
      try {
        v = std::stod(text, &used);
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (!ok || used != text.size() || !std::isfinite(v)) {
      return Error(n, "key '" + key + "': expected a number, got " + Describe(n));
    }
    return v;
  }

  Result<double> Positive(const YAML::Node& n, const std::string& key) const {
    RESMETER_ASSIGN_OR_RETURN(double v, NumberOf(n, key));
    if (v <= 0) return Error(n, "key '" + key + "': must be greater than 0, got " + n.Scalar());
    return v;
  }

  Result<bool> Bool(const YAML::Node& n, const std::string& key) const {
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) return n.Scalar() == "true";
    return Error(n, "key '" + key + "': expected true or false, got " + Describe(n));
  }

  Result<std::vector<std::string>> StringList(const YAML::Node& n, const std::string& key) const {
    if (!n.IsSequence()) return Error(n, "key '" + key + "': expected a list, got " + Describe(n));
    std::vector<std::string> out;
    for (const auto& item : n) {
      RESMETER_ASSIGN_OR_RETURN(std::string s, String(item, key + "[]"));
      out.push_back(std::move(s));
    }
    return out;
  }

  Status ParseTime(const YAML::Node& n, Policy* p) const {
    if (!n.IsMap()) return Error(n, "key 'time': expected a mapping, got " + Describe(n));
    p->time_line = Line(n);
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      if (key == "require_trusted") {
        RESMETER_ASSIGN_OR_RETURN(p->require_trusted_time, Bool(kv.second, "time.require_trusted"));
      } else if (key == "max_error_bound_seconds") {
        RESMETER_ASSIGN_OR_RETURN(double v, Positive(kv.second, "time.max_error_bound_seconds"));
        p->max_time_error_bound_seconds = v;
      } else {
        return Error(kv.first,
                     "unknown key 'time." + key + "' (known: require_trusted, max_error_bound_seconds)");
      }
    }
    return Status::Ok();
  }

  // A list of launch measurements (hex), normalized to lowercase.
  Result<std::vector<std::string>> Measurements(const YAML::Node& n, const std::string& key) const {
    RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> list, StringList(n, key));
    for (std::string& m : list) {
      for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (m.empty() || !HexDecode(m))
        return Error(n, "key '" + key + "': '" + m + "' is not a hex measurement");
    }
    return list;
  }

  Result<std::string> AcceptedType(const YAML::Node& n, const std::string& key) const {
    RESMETER_ASSIGN_OR_RETURN(std::string t, String(n, key));
    for (const char* known : kEvidenceTypes) {
      if (t == known) return t;
    }
    return Error(n, "key '" + key + "': unknown evidence type '" + t + "' (known: sev-snp, tdx, tpm2, none)");
  }

  Status ParseEvidence(const YAML::Node& n, Policy* p) const {
    if (!n.IsMap()) return Error(n, "key 'evidence': expected a mapping, got " + Describe(n));
    PolicyEvidence e;
    e.line = Line(n);
    bool have_accept = false;
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "accept") {
        if (!v.IsSequence() || v.size() == 0) {
          return Error(
              v, "key 'evidence.accept': expected a non-empty list of evidence types, got " + Describe(v));
        }
        for (const auto& item : v) {
          RESMETER_ASSIGN_OR_RETURN(std::string t, AcceptedType(item, "evidence.accept[]"));
          e.accept.push_back(std::move(t));
        }
        have_accept = true;
      } else if (key == "measurements") {
        if (v.IsSequence()) {
          RESMETER_ASSIGN_OR_RETURN(e.measurements["*"], Measurements(v, "evidence.measurements"));
        } else if (v.IsMap()) {
          for (const auto& tm : v) {
            RESMETER_ASSIGN_OR_RETURN(std::string t, AcceptedType(tm.first, "evidence.measurements"));
            RESMETER_ASSIGN_OR_RETURN(e.measurements[t],
                                      Measurements(tm.second, "evidence.measurements." + t));
          }
        } else {
          return Error(
              v,
              "key 'evidence.measurements': expected a list of hex values or a mapping type -> list, got " +
                  Describe(v));
        }
      } else {
        return Error(kv.first, "unknown key 'evidence." + key + "' (known: accept, measurements)");
      }
    }
    if (!have_accept) return Error(n, "key 'evidence': needs 'accept: [evidence types]'");
    p->evidence = std::move(e);
    return Status::Ok();
  }

  Status ParseClaims(const YAML::Node& n, Policy* p) const {
    if (!n.IsSequence()) {
      return Error(
          n, "key 'claims': expected a list of clauses like '- cpu.vcpus: {min: 8}', got " + Describe(n));
    }
    for (const auto& item : n) {
      if (!item.IsMap() || item.size() != 1) {
        return Error(item,
                     "key 'claims': each clause is one 'CLAIM: {min|max|equals|contains: VALUE}', got " +
                         Describe(item));
      }
      auto kv = item.begin();
      RESMETER_ASSIGN_OR_RETURN(PolicyClause clause, ParseClause(kv->first, kv->second));
      p->clauses.push_back(std::move(clause));
    }
    return Status::Ok();
  }

  static std::string KnownClaims() {
    std::string out;
    for (const auto& spec : PolicyClaimTable()) out += (out.empty() ? "" : ", ") + std::string(spec.name);
    return out;
  }

  Result<PolicyClause> ParseClause(const YAML::Node& name_node, const YAML::Node& body) const {
    PolicyClause c;
    c.claim = name_node.IsScalar() ? name_node.Scalar() : "";
    c.line = Line(name_node);
    const PolicyClaimSpec* spec = FindPolicyClaim(c.claim);
    if (spec == nullptr)
      return Error(name_node, "unknown claim '" + c.claim + "' (known: " + KnownClaims() + ")");
    if (!body.IsMap() || body.size() == 0) {
      return Error(body,
                   "claim '" + c.claim + "': expected a mapping like {min: VALUE}, got " + Describe(body));
    }
    const bool text = spec->kind == PolicyValueKind::kText;
    for (const auto& kv : body) {
      const std::string op = kv.first.as<std::string>();
      const std::string key = c.claim + "." + op;
      const YAML::Node& v = kv.second;
      if (op == "min" && !text) {
        RESMETER_ASSIGN_OR_RETURN(c.min, NumberOf(v, key));
      } else if (op == "max" && !text) {
        RESMETER_ASSIGN_OR_RETURN(c.max, NumberOf(v, key));
      } else if (op == "equals" && !text) {
        RESMETER_ASSIGN_OR_RETURN(c.equals, NumberOf(v, key));
      } else if (op == "equals" && text) {
        RESMETER_ASSIGN_OR_RETURN(c.equals_text, String(v, key));
      } else if (op == "contains" && text) {
        RESMETER_ASSIGN_OR_RETURN(c.contains_text, String(v, key));
        if (c.contains_text->empty()) return Error(v, "key '" + key + "': must not be empty");
      } else if (op == "peer" && spec->qualifier == PolicyQualifier::kPeer) {
        RESMETER_ASSIGN_OR_RETURN(c.peer, String(v, key));
      } else if (op == "queue_depth" && spec->qualifier == PolicyQualifier::kQueueDepth) {
        RESMETER_ASSIGN_OR_RETURN(double qd, NumberOf(v, key));
        if (qd < 1 || qd > 1024 || qd != std::floor(qd)) {
          return Error(v, "key '" + key + "': expected a whole number from 1 to 1024, got " + v.Scalar());
        }
        c.queue_depth = static_cast<int>(qd);
      } else {
        std::string allowed = text ? "equals, contains" : "min, max, equals";
        if (spec->qualifier == PolicyQualifier::kPeer) allowed += ", peer";
        if (spec->qualifier == PolicyQualifier::kQueueDepth) allowed += ", queue_depth";
        return Error(kv.first,
                     "claim '" + c.claim + "': unknown key '" + op + "' (this claim takes: " + allowed + ")");
      }
    }
    if (!c.min && !c.max && !c.equals && !c.equals_text && !c.contains_text) {
      return Error(body, "claim '" + c.claim + "': no bound given (want " +
                             (text ? std::string("equals or contains") : std::string("min, max or equals")) +
                             ")");
    }
    if (c.equals && (c.min || c.max)) {
      return Error(body, "claim '" + c.claim + "': give either equals or min/max, not both");
    }
    if (c.min && c.max && *c.min > *c.max) {
      return Error(body, "claim '" + c.claim + "': min is greater than max");
    }
    if (spec->qualifier == PolicyQualifier::kQueueDepth && !c.queue_depth) {
      return Error(body,
                   "claim '" + c.claim + "': needs queue_depth (the depth the disk was ordered at, e.g. 32)");
    }
    return c;
  }

  std::string source_;
};

}  // namespace

std::string PolicyClause::DisplayName() const {
  if (!peer.empty()) return claim + "[peer=" + peer + "]";
  if (queue_depth) return claim + "[qd=" + std::to_string(*queue_depth) + "]";
  return claim;
}

Result<Policy> ParsePolicy(const std::string& yaml_text, const std::string& source) {
  // yaml-cpp reports malformed input and wrong conversions by exception; each
  // becomes one "SOURCE:LINE: message" line.
  try {
    YAML::Node root = YAML::Load(yaml_text);
    return PolicyParser(source).Parse(root);
  } catch (const YAML::Exception& e) {
    std::string where = source;
    if (e.mark.line >= 0) where.append(":").append(std::to_string(e.mark.line + 1));
    return Status::InvalidArgument(OneLine(where.append(": invalid YAML: ").append(e.msg)));
  }
}

Result<Policy> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(OneLine("policy file " + path + ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParsePolicy(ss.str(), path);
}

}  // namespace resmeter
