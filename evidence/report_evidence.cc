#include "evidence/report_evidence.h"

#include "core/strings.h"

namespace resmeter {
namespace {

// The member of a verdict's fields that holds the launch measurement, by type.
const char* MeasurementField(const std::string& type) {
  if (type == "sev-snp") return "measurement";
  if (type == "tdx") return "mr_td";
  if (type == "tpm2") return "pcr_digest";
  return "";
}

// "a, b, c".
std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::string EvidenceAppraisal::StatusName() const {
  switch (status) {
    case EvidenceAppraisalStatus::kVerified:
      return "verified";
    case EvidenceAppraisalStatus::kDevelopment:
      return "development";
    case EvidenceAppraisalStatus::kFailed:
      return "failed";
    case EvidenceAppraisalStatus::kError:
      return "error";
  }
  return "error";
}

nlohmann::json EvidenceAppraisal::ToJson() const {
  nlohmann::json j = {{"type", type}, {"status", StatusName()}, {"trusted", trusted()}, {"detail", detail}};
  if (!measurement.empty()) j["measurement"] = measurement;
  if (!verdict.is_null()) j["verdict"] = verdict;
  return j;
}

std::string EvidenceAppraisal::Describe() const {
  switch (status) {
    case EvidenceAppraisalStatus::kVerified:
      return type + " verified, bound to the signing key (" + detail + ")";
    case EvidenceAppraisalStatus::kDevelopment:
      return "none: development mode, not trusted (" + detail + ")";
    case EvidenceAppraisalStatus::kFailed:
      return type + " FAILED: " + detail;
    case EvidenceAppraisalStatus::kError:
      return type + " cannot be appraised: " + detail;
  }
  return detail;
}

EvidenceAppraisal AppraiseReportEvidence(const nlohmann::json& claims, const std::string& thumbprint,
                                         EvidenceVerifyOptions options) {
  EvidenceAppraisal a;
  if (!claims.is_object() || !claims.contains("evidence") || !claims["evidence"].is_object()) {
    a.detail = "the report has no evidence claim";
    return a;
  }
  const nlohmann::json& evidence = claims["evidence"];
  if (evidence.contains("type") && evidence["type"].is_string()) a.type = evidence["type"].get<std::string>();
  std::string nonce;
  if (claims.contains("eat_nonce")) {
    std::optional<std::string> bytes =
        claims["eat_nonce"].is_string() ? HexDecode(claims["eat_nonce"].get<std::string>()) : std::nullopt;
    if (!bytes) {
      a.detail = "eat_nonce is not hex";
      return a;
    }
    nonce = *bytes;
  }
  // "none" is appraised too (its binding must hold); trust is decided below.
  options.allow_none = true;
  Result<EvidenceVerdict> v = VerifyKeyBoundEvidence(evidence, thumbprint, nonce, options);
  if (!v.ok()) {
    // Bad or corrupt evidence fails; missing trust anchors and the like are
    // problems of this verifier's setup, not of the report.
    const Status::Code code = v.status().code();
    const bool report_fault = code == Status::Code::kVerifyFailed || code == Status::Code::kCorruption ||
                              code == Status::Code::kInvalidArgument;
    a.status = report_fault ? EvidenceAppraisalStatus::kFailed : EvidenceAppraisalStatus::kError;
    a.detail = v.status().message();
    return a;
  }
  a.verdict = v->ToJson();
  if (v->type == "none") {
    a.status = EvidenceAppraisalStatus::kDevelopment;
    a.detail = evidence.value("reason", std::string("no hardware evidence"));
    return a;
  }
  a.status = EvidenceAppraisalStatus::kVerified;
  a.detail = Join(v->checks);
  const char* field = MeasurementField(v->type);
  if (v->fields.contains(field) && v->fields[field].is_string())
    a.measurement = v->fields[field].get<std::string>();
  return a;
}

}  // namespace resmeter
