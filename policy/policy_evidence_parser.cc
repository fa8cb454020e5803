#include "policy/policy_evidence_parser.h"

#include <algorithm>

#include "core/strings.h"
#include "jose/key_origin.h"

namespace resmeter {
namespace {

// Evidence types a policy may accept (evidence/evidence.h wire names).
const char* const kEvidenceTypes[] = {"sev-snp", "tdx", "tpm2", "none"};

// Sizes of the values a policy pins, in bytes.
constexpr size_t kSnpMeasurementBytes = 48;  // SEV-SNP MEASUREMENT
constexpr size_t kSnpHostDataBytes = 32;     // SEV-SNP HOST_DATA
constexpr size_t kTdxRegisterBytes = 48;     // TDX MRTD and RTMR0..3 (SHA-384)
constexpr size_t kTdxTcbSvnBytes = 16;       // TDX TEE_TCB_SVN
constexpr size_t kSha256Bytes = 32;          // TPM AK fingerprint

// The size of one PCR value in a TPM bank, or 0 for an unknown bank.
size_t PcrBankBytes(const std::string& bank) {
  if (bank == "sha1") return 20;
  if (bank == "sha256") return 32;
  if (bank == "sha384") return 48;
  return 0;
}

// Parses the evidence section; every method returns the first error as
// "SOURCE:LINE: message".
class PolicyEvidenceParser : public PolicyYaml {
 public:
  using PolicyYaml::PolicyYaml;

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
        return ErrorAt(line,
                       "key 'evidence." + type + "': pins for a type that evidence.accept does not list");
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
};

}  // namespace

Status ParsePolicyEvidence(const PolicyYaml& yaml, const YAML::Node& n, Policy* p) {
  return PolicyEvidenceParser(yaml.source()).ParseEvidence(n, p);
}

}  // namespace resmeter
