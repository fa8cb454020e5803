#include "reporter/policy.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "reporter/key_origin.h"
#include "reporter/policy_claims.h"

namespace resmeter {
namespace {

// Evidence types a policy may accept (reporter/evidence.h wire names).
const char* const kEvidenceTypes[] = {"sev-snp", "tdx", "tpm2", "none"};

// Sizes of the values a policy pins, in bytes.
constexpr size_t kSnpMeasurementBytes = 48;  // SEV-SNP MEASUREMENT
constexpr size_t kSnpHostDataBytes = 32;     // SEV-SNP HOST_DATA
constexpr size_t kTdxRegisterBytes = 48;     // TDX MRTD and RTMR0..3 (SHA-384)
constexpr size_t kTdxTcbSvnBytes = 16;       // TDX TEE_TCB_SVN
constexpr size_t kSha256Bytes = 32;          // TPM AK fingerprint
constexpr size_t kThumbprintChars = 43;      // RFC 7638 SHA-256 thumbprint, base64url without padding

// The size of one PCR value in a TPM bank, or 0 for an unknown bank.
size_t PcrBankBytes(const std::string& bank) {
  if (bank == "sha1") return 20;
  if (bank == "sha256") return 32;
  if (bank == "sha384") return 48;
  return 0;
}

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

  // One hex value of one of `sizes` bytes, normalized to lowercase.
  Result<std::string> Hex(const YAML::Node& n, const std::string& key, std::vector<size_t> sizes) const {
    RESMETER_ASSIGN_OR_RETURN(std::string m, String(n, key));
    for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::optional<std::string> bytes = HexDecode(m);
    if (m.empty() || !bytes) return Error(n, "key '" + key + "': '" + m + "' is not hex");
    if (std::find(sizes.begin(), sizes.end(), bytes->size()) == sizes.end()) {
      std::string want;
      for (size_t i = 0; i < sizes.size(); ++i) {
        want += (i == 0 ? "" : i + 1 == sizes.size() ? " or " : ", ") + std::to_string(sizes[i]);
      }
      return Error(n, "key '" + key + "': expected " + want + " bytes (" + std::to_string(2 * sizes.front()) +
                          (sizes.size() > 1 ? "..." : "") + " hex digits), got " +
                          std::to_string(bytes->size()) + (bytes->size() == 1 ? " byte" : " bytes"));
    }
    return m;
  }

  // A list of hex values (a single value is a list of one), each of one of `sizes` bytes.
  Result<std::vector<std::string>> HexList(const YAML::Node& n, const std::string& key,
                                           const std::vector<size_t>& sizes) const {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      RESMETER_ASSIGN_OR_RETURN(std::string m, Hex(n, key, sizes));
      out.push_back(std::move(m));
      return out;
    }
    if (!n.IsSequence() || n.size() == 0)
      return Error(n, "key '" + key + "': expected a non-empty list of hex values, got " + Describe(n));
    for (const auto& item : n) {
      RESMETER_ASSIGN_OR_RETURN(std::string m, Hex(item, key + "[]", sizes));
      out.push_back(std::move(m));
    }
    return out;
  }

  // The byte sizes a launch measurement of `type` has ("*": any type).
  static std::vector<size_t> MeasurementSizes(const std::string& type) {
    if (type == "sev-snp") return {kSnpMeasurementBytes};
    if (type == "tdx") return {kTdxRegisterBytes};
    return {48, 32, 20};  // tpm2: the PCR digest of a sha384, sha256 or sha1 bank
  }

  // Stores the accepted measurements of `type`; an error when they were given before.
  Status SetMeasurements(const YAML::Node& n, const std::string& type, const std::string& key,
                         PolicyEvidence* e) const {
    if (e->measurements.count(type) != 0) {
      return Error(
          n, "key '" + key + "': the " + type +
                 " measurements are given twice (use either evidence.measurements or the per-type key)");
    }
    RESMETER_ASSIGN_OR_RETURN(e->measurements[type], HexList(n, key, MeasurementSizes(type)));
    return Status::Ok();
  }

  // A whole number in [lo, hi].
  Result<int> WholeNumber(const YAML::Node& n, const std::string& key, int lo, int hi) const {
    RESMETER_ASSIGN_OR_RETURN(double v, NumberOf(n, key));
    if (v < lo || v > hi || v != std::floor(v)) {
      return Error(n, "key '" + key + "': expected a whole number from " + std::to_string(lo) + " to " +
                          std::to_string(hi) + ", got " + n.Scalar());
    }
    return static_cast<int>(v);
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
    std::vector<std::pair<std::string, int>> pinned;  // per-type pin sections and their lines
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
          RESMETER_RETURN_IF_ERROR(SetMeasurements(v, "*", "evidence.measurements", &e));
        } else if (v.IsMap()) {
          for (const auto& tm : v) {
            RESMETER_ASSIGN_OR_RETURN(std::string t, AcceptedType(tm.first, "evidence.measurements"));
            RESMETER_RETURN_IF_ERROR(SetMeasurements(tm.second, t, "evidence.measurements." + t, &e));
          }
        } else {
          return Error(
              v,
              "key 'evidence.measurements': expected a list of hex values or a mapping type -> list, got " +
                  Describe(v));
        }
      } else if (key == "key_origins") {
        RESMETER_RETURN_IF_ERROR(ParseKeyOrigins(v, &e));
      } else if (key == "sev-snp") {
        RESMETER_RETURN_IF_ERROR(ParseSnpPins(v, &e));
        pinned.push_back({key, Line(kv.first)});
      } else if (key == "tdx") {
        RESMETER_RETURN_IF_ERROR(ParseTdxPins(v, &e));
        pinned.push_back({key, Line(kv.first)});
      } else if (key == "tpm2") {
        RESMETER_RETURN_IF_ERROR(ParseTpmPins(v, &e));
        pinned.push_back({key, Line(kv.first)});
      } else {
        return Error(kv.first, "unknown key 'evidence." + key +
                                   "' (known: accept, key_origins, measurements, sev-snp, tdx, tpm2)");
      }
    }
    if (!have_accept) return Error(n, "key 'evidence': needs 'accept: [evidence types]'");
    for (const auto& [type, line] : pinned) {
      if (std::find(e.accept.begin(), e.accept.end(), type) == e.accept.end()) {
        return Status::InvalidArgument(OneLine(source_ + ":" + std::to_string(line) + ": key 'evidence." +
                                               type +
                                               "': pins for a type that evidence.accept does not list"));
      }
    }
    p->evidence = std::move(e);
    return Status::Ok();
  }

  Status ParseKeyOrigins(const YAML::Node& v, PolicyEvidence* e) const {
    if (!v.IsSequence() || v.size() == 0) {
      return Error(
          v, "key 'evidence.key_origins': expected a non-empty list of key origins, got " + Describe(v));
    }
    for (const auto& item : v) {
      RESMETER_ASSIGN_OR_RETURN(std::string o, String(item, "evidence.key_origins[]"));
      if (o == kKeyOriginFile) {
        return Error(
            item,
            "key 'evidence.key_origins': 'file' is never accepted for an agent (a key kept in a file "
            "outlives the agent and can be copied by whoever runs the host); agents sign with "
            "'ephemeral' keys");
      }
      if (o != kKeyOriginEphemeral)
        return Error(item, "key 'evidence.key_origins': unknown key origin '" + o + "' (known: ephemeral)");
      e->key_origins.push_back(std::move(o));
    }
    return Status::Ok();
  }

  Status ParseSnpPins(const YAML::Node& n, PolicyEvidence* e) const {
    if (!n.IsMap()) return Error(n, "key 'evidence.sev-snp': expected a mapping, got " + Describe(n));
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      const std::string full = "evidence.sev-snp." + key;
      const YAML::Node& v = kv.second;
      if (key == "measurement") {
        RESMETER_RETURN_IF_ERROR(SetMeasurements(v, "sev-snp", full, e));
      } else if (key == "host_data") {
        RESMETER_ASSIGN_OR_RETURN(e->snp.host_data, Hex(v, full, {kSnpHostDataBytes}));
      } else if (key == "allow_debug") {
        RESMETER_ASSIGN_OR_RETURN(e->snp.allow_debug, Bool(v, full));
      } else if (key == "max_vmpl") {
        RESMETER_ASSIGN_OR_RETURN(int vmpl, WholeNumber(v, full, 0, 3));
        e->snp.max_vmpl = static_cast<uint32_t>(vmpl);
      } else if (key == "min_reported_tcb") {
        RESMETER_RETURN_IF_ERROR(ParseSnpTcb(v, full, e));
      } else {
        return Error(kv.first,
                     "unknown key '" + full +
                         "' (known: measurement, host_data, min_reported_tcb, allow_debug, max_vmpl)");
      }
    }
    return Status::Ok();
  }

  Status ParseSnpTcb(const YAML::Node& n, const std::string& full, PolicyEvidence* e) const {
    if (!n.IsMap() || n.size() == 0) {
      return Error(n, "key '" + full +
                          "': expected a mapping of SVNs like {bootloader: 3, tee: 0, snp: 8, "
                          "microcode: 115}, got " +
                          Describe(n));
    }
    SnpTcbVersion tcb;
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      uint8_t* field = key == "bootloader"  ? &tcb.boot_loader
                       : key == "tee"       ? &tcb.tee
                       : key == "snp"       ? &tcb.snp
                       : key == "microcode" ? &tcb.microcode
                       : key == "fmc"       ? &tcb.fmc
                                            : nullptr;
      if (field == nullptr) {
        return Error(kv.first,
                     "unknown key '" + full + "." + key + "' (known: bootloader, tee, snp, microcode, fmc)");
      }
      RESMETER_ASSIGN_OR_RETURN(int svn, WholeNumber(kv.second, full + "." + key, 0, 255));
      *field = static_cast<uint8_t>(svn);
    }
    e->snp.min_reported_tcb = tcb;
    return Status::Ok();
  }

  Status ParseTdxPins(const YAML::Node& n, PolicyEvidence* e) const {
    if (!n.IsMap()) return Error(n, "key 'evidence.tdx': expected a mapping, got " + Describe(n));
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      const std::string full = "evidence.tdx." + key;
      const YAML::Node& v = kv.second;
      if (key == "mr_td") {
        RESMETER_RETURN_IF_ERROR(SetMeasurements(v, "tdx", full, e));
      } else if (key.size() == 5 && key.compare(0, 4, "rtmr") == 0 && key[4] >= '0' && key[4] <= '3') {
        RESMETER_ASSIGN_OR_RETURN(e->tdx.rtmr[key[4] - '0'], Hex(v, full, {kTdxRegisterBytes}));
      } else if (key == "allow_debug") {
        RESMETER_ASSIGN_OR_RETURN(e->tdx.allow_debug, Bool(v, full));
      } else if (key == "min_tee_tcb_svn") {
        RESMETER_ASSIGN_OR_RETURN(std::string hex, Hex(v, full, {kTdxTcbSvnBytes}));
        e->tdx.min_tee_tcb_svn = *HexDecode(hex);
      } else {
        return Error(kv.first,
                     "unknown key '" + full +
                         "' (known: mr_td, rtmr0, rtmr1, rtmr2, rtmr3, allow_debug, min_tee_tcb_svn)");
      }
    }
    return Status::Ok();
  }

  Status ParseTpmPins(const YAML::Node& n, PolicyEvidence* e) const {
    if (!n.IsMap()) return Error(n, "key 'evidence.tpm2': expected a mapping, got " + Describe(n));
    // The bank first: it fixes the size of every PCR value.
    if (const YAML::Node bank = n["pcr_bank"]; bank.IsDefined()) {
      RESMETER_ASSIGN_OR_RETURN(e->tpm_pcr_bank, String(bank, "evidence.tpm2.pcr_bank"));
      if (PcrBankBytes(e->tpm_pcr_bank) == 0) {
        return Error(bank, "key 'evidence.tpm2.pcr_bank': unknown bank '" + e->tpm_pcr_bank +
                               "' (known: sha1, sha256, sha384)");
      }
    }
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      const std::string full = "evidence.tpm2." + key;
      const YAML::Node& v = kv.second;
      if (key == "pcr_bank") continue;
      if (key == "ak_sha256") {
        RESMETER_ASSIGN_OR_RETURN(e->tpm.allowed_ak_sha256, HexList(v, full, {kSha256Bytes}));
      } else if (key == "pcrs") {
        if (!v.IsMap() || v.size() == 0)
          return Error(v,
                       "key '" + full + "': expected a mapping PCR index -> hex value, got " + Describe(v));
        for (const auto& pcr : v) {
          RESMETER_ASSIGN_OR_RETURN(int index, WholeNumber(pcr.first, full + " index", 0, 23));
          RESMETER_ASSIGN_OR_RETURN(
              e->tpm.pcrs[index],
              Hex(pcr.second, full + "." + std::to_string(index) + " (" + e->tpm_pcr_bank + " bank)",
                  {PcrBankBytes(e->tpm_pcr_bank)}));
        }
      } else {
        return Error(kv.first, "unknown key '" + full + "' (known: pcr_bank, pcrs, ak_sha256)");
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
      const std::string where = source_ + ":" + std::to_string(c.line) + ": claim '" + c.claim + "': ";
      if (c.peer.empty()) {
        if (p->peers.empty()) {
          return Status::InvalidArgument(OneLine(
              where +
              "the policy names no peers; declare the accepted ones as 'peers: {NAME: {kid: THUMBPRINT}}' "
              "(the kid `resmeter key show` prints on the peer)"));
        }
        continue;
      }
      const PolicyPeer* peer = p->FindPeer(c.peer);
      if (peer == nullptr && c.peer.find(':') != std::string::npos) {
        return Status::InvalidArgument(
            OneLine(where + "peer '" + c.peer +
                    "' is a host:port; a peer is accepted by its key, not its address: run `resmeter key "
                    "show` on the "
                    "peer, declare 'peers: {NAME: {kid: THUMBPRINT}}' and write 'peer: NAME'"));
      }
      if (peer == nullptr) {
        std::string known;
        for (const PolicyPeer& q : p->peers) known += (known.empty() ? "" : ", ") + q.name;
        return Status::InvalidArgument(
            OneLine(where + "unknown peer '" + c.peer +
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

  std::string source_;
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
