#include "policy/policy.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/yaml_checks.h"
#include "policy/policy_claims.h"
#include "policy/policy_evidence_parser.h"
#include "policy/policy_yaml.h"

namespace resmeter {
namespace {

constexpr size_t kThumbprintChars = 43;  // RFC 7638 SHA-256 thumbprint, base64url without padding

// Whether `s` is a finding code or a meter name part: [a-z0-9_]+.
bool IsSnakeCase(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_'))
      return false;
  }
  return true;
}

// Whether `s` looks like a meter name: snake_case parts joined by dots, at least two.
bool IsMeterName(const std::string& s) {
  size_t parts = 0, start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    if (!IsSnakeCase(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start)))
      return false;
    ++parts;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts >= 2;
}

// Whether `s` is a base64url RFC 7638 thumbprint (43 characters).
bool IsThumbprint(const std::string& s) {
  if (s.size() != kThumbprintChars) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

// Whether a peer name is safe to show and cannot be read as host:port.
bool IsPeerName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

// Parses one policy file; every method returns the first error as
// "SOURCE:LINE: message".
class PolicyParser : public PolicyYaml {
 public:
  using PolicyYaml::PolicyYaml;

  Result<Policy> Parse(const YAML::Node& root) {
    Policy p;
    p.source = source();
    if (!root.IsDefined() || root.IsNull())
      return Status::InvalidArgument(source() + ": the policy is empty");
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
        RESMETER_RETURN_IF_ERROR(ParsePolicyEvidence(*this, v, &p));
        any = true;
      } else if (key == "claims") {
        RESMETER_RETURN_IF_ERROR(ParseClaims(v, &p));
        any = any || !p.clauses.empty();
      } else if (key == "peers") {
        RESMETER_RETURN_IF_ERROR(ParsePeers(v, &p));
      } else if (key == "findings") {
        RESMETER_RETURN_IF_ERROR(ParseFindings(v, &p));
        any = true;
      } else if (key == "meters") {
        RESMETER_RETURN_IF_ERROR(ParseMeters(v, &p));
        any = true;
      } else {
        return Error(kv.first, "unknown key '" + key +
                                   "' (known: name, description, max_report_age_seconds, time, evidence, "
                                   "peers, findings, meters, claims)");
      }
    }
    if (!any) {
      return Error(root,
                   "the policy requires nothing (no claims, time, evidence, findings, meters or "
                   "max_report_age_seconds)");
    }
    RESMETER_RETURN_IF_ERROR(ResolvePeers(&p));
    return p;
  }

 private:
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
      } else if (key == "nts_servers") {
        RESMETER_ASSIGN_OR_RETURN(p->nts_servers, StringList(kv.second, "time.nts_servers"));
        if (p->nts_servers.empty())
          return Error(kv.second, "key 'time.nts_servers': expected at least one server");
      } else if (key == "nts_certificate_subjects") {
        RESMETER_ASSIGN_OR_RETURN(p->nts_certificate_subjects,
                                  StringList(kv.second, "time.nts_certificate_subjects"));
        if (p->nts_certificate_subjects.empty())
          return Error(kv.second, "key 'time.nts_certificate_subjects': expected at least one subject");
      } else if (key == "require_tsa") {
        RESMETER_ASSIGN_OR_RETURN(p->require_tsa, StringList(kv.second, "time.require_tsa"));
        if (p->require_tsa.empty())
          return Error(kv.second, "key 'time.require_tsa': expected at least one TSA");
      } else if (key == "max_unstamped_seconds") {
        RESMETER_ASSIGN_OR_RETURN(double v, Positive(kv.second, "time.max_unstamped_seconds"));
        p->max_unstamped_seconds = v;
      } else if (key == "bracket_tolerance_seconds") {
        RESMETER_ASSIGN_OR_RETURN(double v, Positive(kv.second, "time.bracket_tolerance_seconds"));
        p->bracket_tolerance_seconds = v;
      } else if (key == "max_stamp_delay_seconds") {
        RESMETER_ASSIGN_OR_RETURN(double v, Positive(kv.second, "time.max_stamp_delay_seconds"));
        p->max_stamp_delay_seconds = v;
      } else {
        return Error(kv.first,
                     "unknown key 'time." + key +
                         "' (known: require_trusted, max_error_bound_seconds, nts_servers, "
                         "nts_certificate_subjects, require_tsa, "
                         "max_unstamped_seconds, bracket_tolerance_seconds, max_stamp_delay_seconds)");
      }
    }
    return Status::Ok();
  }

  Status ParsePeers(const YAML::Node& n, Policy* p) const {
    if (!n.IsMap() || n.size() == 0) {
      return Error(n,
                   "key 'peers': expected a mapping like 'storage: {kid: THUMBPRINT}', got " + Describe(n));
    }
    for (const auto& kv : n) {
      PolicyPeer peer;
      peer.name = kv.first.as<std::string>();
      peer.line = Line(kv.first);
      if (!IsPeerName(peer.name)) {
        return Error(kv.first,
                     "key 'peers': '" + peer.name +
                         "' is not a peer name (letters, digits, '-', '_', '.'; no host:port: peers "
                         "are named, and known by their key)");
      }
      const std::string full = "peers." + peer.name;
      if (!kv.second.IsMap())
        return Error(kv.second, "key '" + full + "': expected {kid: THUMBPRINT}, got " + Describe(kv.second));
      for (const auto& field : kv.second) {
        const std::string key = field.first.as<std::string>();
        if (key != "kid") return Error(field.first, "unknown key '" + full + "." + key + "' (known: kid)");
        RESMETER_ASSIGN_OR_RETURN(peer.kid, String(field.second, full + ".kid"));
        if (!IsThumbprint(peer.kid)) {
          return Error(field.second, "key '" + full + ".kid': '" + peer.kid +
                                         "' is not an RFC 7638 key thumbprint (43 base64url characters, as "
                                         "`resmeter key show` prints it on the peer)");
        }
      }
      if (peer.kid.empty()) return Error(kv.second, "key '" + full + "': needs 'kid: THUMBPRINT'");
      for (const PolicyPeer& other : p->peers) {
        if (other.kid == peer.kid) {
          return Error(kv.first, "key '" + full + "': the same kid as peer '" + other.name + "'");
        }
      }
      p->peers.push_back(std::move(peer));
    }
    return Status::Ok();
  }

  Status ParseFindings(const YAML::Node& n, Policy* p) const {
    if (!n.IsMap() || n.size() == 0) {
      return Error(
          n, "key 'findings': expected a mapping like {forbid: [CODE, ...], max: 0}, got " + Describe(n));
    }
    PolicyFindings f;
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "forbid") {
        if (!v.IsSequence() || v.size() == 0) {
          return Error(
              v, "key 'findings.forbid': expected a non-empty list of finding codes, got " + Describe(v));
        }
        for (const auto& item : v) {
          RESMETER_ASSIGN_OR_RETURN(std::string code, String(item, "findings.forbid[]"));
          if (!IsSnakeCase(code)) {
            return Error(item,
                         "key 'findings.forbid': '" + code +
                             "' is not a finding code (lowercase snake_case, e.g. memory_total_mismatch)");
          }
          f.forbid.push_back(std::move(code));
        }
        f.forbid_line = Line(kv.first);
      } else if (key == "max") {
        RESMETER_ASSIGN_OR_RETURN(f.max, WholeNumber(v, "findings.max", 0, 1000000));
        f.max_line = Line(kv.first);
      } else {
        return Error(kv.first, "unknown key 'findings." + key + "' (known: forbid, max)");
      }
    }
    p->findings = std::move(f);
    return Status::Ok();
  }

  Status ParseMeters(const YAML::Node& n, Policy* p) const {
    if (!n.IsMap() || n.size() == 0) {
      return Error(
          n, "key 'meters': expected a mapping like 'disk.io: {max_age_seconds: 3600}', got " + Describe(n));
    }
    for (const auto& kv : n) {
      PolicyMeterAge age;
      age.meter = kv.first.as<std::string>();
      age.line = Line(kv.first);
      if (!IsMeterName(age.meter)) {
        return Error(kv.first,
                     "key 'meters': '" + age.meter + "' is not a meter name (like disk.io, cpu.frequency)");
      }
      const std::string full = "meters." + age.meter;
      if (!kv.second.IsMap() || kv.second.size() == 0) {
        return Error(kv.second,
                     "key '" + full + "': expected {max_age_seconds: SECONDS}, got " + Describe(kv.second));
      }
      bool have_age = false;
      for (const auto& field : kv.second) {
        const std::string key = field.first.as<std::string>();
        if (key != "max_age_seconds") {
          return Error(field.first, "unknown key '" + full + "." + key + "' (known: max_age_seconds)");
        }
        RESMETER_ASSIGN_OR_RETURN(age.max_age_seconds, Positive(field.second, full + ".max_age_seconds"));
        have_age = true;
      }
      if (!have_age) return Error(kv.second, "key '" + full + "': needs max_age_seconds");
      p->meter_ages.push_back(std::move(age));
    }
    return Status::Ok();
  }

  // Turns each net clause's peer name into the peer's kid. Peers are named,
  // never given as host:port, and a net clause needs at least one peer.
  Status ResolvePeers(Policy* p) const {
    for (PolicyClause& c : p->clauses) {
      const PolicyClaimSpec* spec = FindPolicyClaim(c.claim);
      if (spec == nullptr || spec->qualifier != PolicyQualifier::kPeer) continue;
      const std::string where = source() + ":" + std::to_string(c.line) + ": claim '" + c.claim + "': ";
      if (c.peer.empty()) {
        if (p->peers.empty()) {
          return Status::InvalidArgument(PolicyOneLine(
              where +
              "the policy names no peers; declare the accepted ones as 'peers: {NAME: {kid: THUMBPRINT}}' "
              "(the kid `resmeter key show` prints on the peer)"));
        }
        continue;
      }
      const PolicyPeer* peer = p->FindPeer(c.peer);
      if (peer == nullptr && c.peer.find(':') != std::string::npos) {
        return Status::InvalidArgument(PolicyOneLine(
            where + "peer '" + c.peer +
            "' is a host:port; a peer is accepted by its key, not its address: run `resmeter key "
            "show` on the "
            "peer, declare 'peers: {NAME: {kid: THUMBPRINT}}' and write 'peer: NAME'"));
      }
      if (peer == nullptr) {
        std::string known;
        for (const PolicyPeer& q : p->peers) known += (known.empty() ? "" : ", ") + q.name;
        return Status::InvalidArgument(
            PolicyOneLine(where + "unknown peer '" + c.peer +
                          "' (declared under peers: " + (known.empty() ? std::string("none") : known) + ")"));
      }
      c.peer_kid = peer->kid;
    }
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
};

}  // namespace

const PolicyPeer* Policy::FindPeer(const std::string& peer_name) const {
  for (const PolicyPeer& p : peers) {
    if (p.name == peer_name) return &p;
  }
  return nullptr;
}

bool Policy::AcceptsPeerKid(const std::string& kid) const {
  for (const PolicyPeer& p : peers) {
    if (p.kid == kid) return true;
  }
  return false;
}

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
    RESMETER_RETURN_IF_ERROR(CheckNoDuplicateKeys(root, source));
    return PolicyParser(source).Parse(root);
  } catch (const YAML::Exception& e) {
    std::string where = source;
    if (e.mark.line >= 0) where.append(":").append(std::to_string(e.mark.line + 1));
    return Status::InvalidArgument(PolicyOneLine(where.append(": invalid YAML: ").append(e.msg)));
  }
}

Result<Policy> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(PolicyOneLine("policy file " + path + ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParsePolicy(ss.str(), path);
}

}  // namespace resmeter
