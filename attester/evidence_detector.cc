#include "attester/evidence_detector.h"

#include <unistd.h>

#include "core/strings.h"
#include "evidence/evidence_none.h"

namespace resmeter {

Result<EvidenceSettings> EvidenceSettings::FromOptions(const Options& global) {
  EvidenceSettings s;
  s.backend = global.String("evidence.backend");
  s.tsm.root = global.String("evidence.configfs_tsm_root");
  s.tpm.tcti = global.String("evidence.tpm_tcti");
  s.tpm.pcr_bank = global.String("evidence.tpm_pcr_bank");
  s.tpm.pcrs.clear();
  for (const std::string& p : global.Strings("evidence.tpm_pcrs")) {
    std::optional<int64_t> i = ParseInt64(p);
    if (!i || *i < 0 || *i > 23) {
      return Status::InvalidArgument("evidence.tpm_pcrs: '" + p + "' is not a PCR index 0..23");
    }
    s.tpm.pcrs.push_back(static_cast<int>(*i));
  }
  s.tpm.ak_cert_file = global.String("evidence.tpm2.ak_cert_file");
  s.tpm.ak_chain_file = global.String("evidence.tpm2.ak_chain_file");
  const std::string nv = global.String("evidence.tpm2.ak_cert_nv_index");
  if (!nv.empty()) {
    std::optional<std::string> raw =
        StartsWith(nv, "0x") && nv.size() == 10 ? HexDecode(nv.substr(2)) : std::nullopt;
    if (!raw) {
      return Status::InvalidArgument("evidence.tpm2.ak_cert_nv_index: '" + nv +
                                     "' is not 0x followed by 8 hex digits");
    }
    uint32_t index = 0;
    for (char c : *raw) index = (index << 8) | static_cast<uint8_t>(c);
    if ((index >> 24) != 0x01) {
      return Status::InvalidArgument("evidence.tpm2.ak_cert_nv_index: '" + nv +
                                     "' is not an NV index (0x01xxxxxx)");
    }
    s.tpm.ak_cert_nv_index = index;
  }
  return s;
}

nlohmann::json EvidenceDetection::ToJson() const {
  nlohmann::json probes_json = nlohmann::json::array();
  for (const BackendProbe& p : probes) {
    probes_json.push_back({{"backend", p.backend}, {"available", p.available}, {"detail", p.detail}});
  }
  return {{"selected", backend ? EvidenceTypeName(backend->type()) : "none"}, {"probes", probes_json}};
}

Result<EvidenceDetection> DetectEvidenceBackend(const EvidenceSettings& settings) {
  RESMETER_ASSIGN_OR_RETURN(EvidenceType wanted, settings.backend == "auto" ? Result<EvidenceType>(EvidenceType::kNone)
                                                                            : ParseEvidenceType(settings.backend));
  const bool automatic = settings.backend == "auto";
  EvidenceDetection d;
  if (!automatic && wanted == EvidenceType::kNone) {
    d.backend = std::make_unique<NoneBackend>("evidence.backend is none");
    return d;
  }
  std::string reasons;
  // configfs-tsm (SEV-SNP, TDX).
  if (automatic || wanted == EvidenceType::kSevSnp || wanted == EvidenceType::kTdx) {
    auto tsm = std::make_unique<ConfigfsTsmBackend>(settings.tsm);
    Result<EvidenceType> type = tsm->Probe();
    BackendProbe probe{"configfs-tsm", type.ok(), type.ok() ? EvidenceTypeName(*type) : type.status().message()};
    d.probes.push_back(probe);
    reasons += probe.available ? "" : probe.detail + "; ";
    if (type.ok() && (automatic || *type == wanted)) {
      d.backend = std::move(tsm);
      return d;
    }
    if (!automatic) {
      return Status::NotSupported("evidence.backend is " + settings.backend + " but configfs-tsm " +
                                  (type.ok() ? "offers " + EvidenceTypeName(*type) : "is unavailable: " + probe.detail));
    }
  }
  // TPM 2.0.
  BackendProbe probe{"tpm2", false, ""};
  if (StartsWith(settings.tpm.tcti, "device:") && ::access(settings.tpm.tcti.substr(7).c_str(), F_OK) != 0) {
    probe.detail = "tpm2: no TPM device " + settings.tpm.tcti.substr(7);
  } else {
    auto tpm = std::make_unique<Tpm2Backend>(settings.tpm);
    Result<std::string> id = tpm->Probe();
    probe.available = id.ok();
    probe.detail = id.ok() ? "manufacturer " + *id : id.status().message();
    if (id.ok()) {
      d.probes.push_back(probe);
      d.backend = std::move(tpm);
      return d;
    }
  }
  d.probes.push_back(probe);
  reasons += probe.detail;
  if (!automatic) return Status::NotSupported("evidence.backend is tpm2 but " + probe.detail);
  d.backend = std::make_unique<NoneBackend>("no TEE evidence available: " + reasons);
  return d;
}

Result<nlohmann::json> CollectBoundEvidence(EvidenceDetection& detection, const std::string& thumbprint,
                                            const std::string& nonce) {
  std::string user_data = ComputeUserData(thumbprint, nonce);
  RESMETER_ASSIGN_OR_RETURN(nlohmann::json evidence, detection.backend->Collect(user_data));
  evidence["binding"] = "user_data = SHA-512(kid || nonce)";
  if (!nonce.empty()) evidence["nonce"] = HexEncode(nonce);
  evidence["detection"] = detection.ToJson();
  return evidence;
}

}  // namespace resmeter
