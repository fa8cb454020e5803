#include "evidence/evidence_verifier.h"

#include <fstream>
#include <sstream>

#include "core/json_fields.h"
#include "core/strings.h"
#include "jose/jwk.h"

namespace resmeter {
namespace {

// Decodes a base64 member; Corruption naming it.
Result<std::string> Blob(const nlohmann::json& j, const char* type, const char* name) {
  if (!j.contains(name) || !j[name].is_string()) {
    return Status::Corruption(std::string(type) + " evidence: missing " + name);
  }
  std::optional<std::string> bytes = Base64Decode(j[name].get<std::string>());
  if (!bytes) return Status::Corruption(std::string(type) + " evidence: " + name + " is not base64");
  return *bytes;
}

// Reads a trust-anchor file.
Result<std::string> ReadAnchor(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("trust anchor " + path + " cannot be read");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

Result<EvidenceVerdict> VerifyEvidenceJson(const nlohmann::json& evidence,
                                           const std::optional<std::string>& expected_user_data,
                                           const EvidenceVerifyOptions& options) {
  if (!evidence.is_object() || !evidence.contains("type") || !evidence["type"].is_string()) {
    return Status::Corruption("evidence: not an object with a 'type'");
  }
  RESMETER_ASSIGN_OR_RETURN(EvidenceType type, ParseEvidenceType(evidence["type"].get<std::string>()));
  switch (type) {
    case EvidenceType::kNone: {
      if (!options.allow_none) {
        return CheckFailed("none", "trusted",
                           "development mode evidence (" + JsonString(evidence, "reason", "no reason") +
                               ") is never trusted by default policy");
      }
      if (expected_user_data && evidence.contains("user_data") &&
          evidence["user_data"] != HexEncode(*expected_user_data)) {
        return CheckFailed("none", "user_data", "user_data does not match SHA-512(kid || nonce)");
      }
      EvidenceVerdict v;
      v.type = "none";
      v.not_checked.push_back("everything: development mode, no hardware evidence");
      v.fields = evidence;
      return v;
    }
    case EvidenceType::kSevSnp: {
      SevSnpInput in;
      RESMETER_ASSIGN_OR_RETURN(in.report, Blob(evidence, "sev-snp", "report"));
      if (evidence.contains("vcek")) {
        RESMETER_ASSIGN_OR_RETURN(in.vcek, Blob(evidence, "sev-snp", "vcek"));
      } else {
        RESMETER_ASSIGN_OR_RETURN(std::string aux, Blob(evidence, "sev-snp", "auxblob"));
        RESMETER_ASSIGN_OR_RETURN(in.vcek, VcekFromCertTable(aux));
      }
      in.expected_report_data = expected_user_data;
      in.at = options.at;
      RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> anchors, LoadAmdTrustAnchors(options.trust_anchors_dir));
      return SevSnpVerifier(std::move(anchors), options.snp).Verify(in);
    }
    case EvidenceType::kTdx: {
      TdxInput in;
      RESMETER_ASSIGN_OR_RETURN(in.quote, Blob(evidence, "tdx", "quote"));
      in.expected_report_data = expected_user_data;
      in.at = options.at;
      RESMETER_ASSIGN_OR_RETURN(std::string root, ReadAnchor(options.trust_anchors_dir + "/intel_sgx_root_ca.pem"));
      return TdxVerifier(std::move(root), options.tdx).Verify(in);
    }
    case EvidenceType::kTpm2: {
      RESMETER_ASSIGN_OR_RETURN(Tpm2Input in, Tpm2InputFromJson(evidence));
      in.expected_user_data = expected_user_data;
      RESMETER_ASSIGN_OR_RETURN(Tpm2AkTrust trust, LoadTpm2AkTrust(options.trust_anchors_dir, options.at));
      return Tpm2QuoteVerifier(options.tpm, std::move(trust)).Verify(in);
    }
  }
  return Status::Corruption("evidence: unknown type");
}

Result<EvidenceVerdict> VerifyKeyBoundEvidence(const nlohmann::json& evidence, const std::string& thumbprint,
                                               const std::string& nonce, const EvidenceVerifyOptions& options) {
  return VerifyEvidenceJson(evidence, ComputeUserData(thumbprint, nonce), options);
}

Result<EvidenceVerdict> VerifyIdentityDocument(const nlohmann::json& doc,
                                               const std::optional<std::string>& expected_nonce_hex,
                                               const EvidenceVerifyOptions& options) {
  if (!doc.is_object() || !doc.contains("jwk") || !doc.contains("evidence")) {
    return Status::Corruption("identity document: needs 'jwk' and 'evidence'");
  }
  RESMETER_ASSIGN_OR_RETURN(std::string thumbprint, JwkThumbprint(doc["jwk"]));
  std::string nonce_hex = doc.value("nonce", std::string());
  if (expected_nonce_hex && *expected_nonce_hex != nonce_hex) {
    return CheckFailed("identity", "nonce", "document nonce '" + nonce_hex + "' is not the expected '" +
                                                *expected_nonce_hex + "'");
  }
  std::optional<std::string> nonce = HexDecode(nonce_hex);
  if (!nonce) return Status::Corruption("identity document: nonce is not hex");
  RESMETER_ASSIGN_OR_RETURN(EvidenceVerdict v, VerifyKeyBoundEvidence(doc["evidence"], thumbprint, *nonce, options));
  v.fields["kid"] = thumbprint;
  if (!nonce_hex.empty()) v.fields["nonce"] = nonce_hex;
  return v;
}

}  // namespace resmeter
