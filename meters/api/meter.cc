#include "meters/api/meter.h"

namespace resmeter {

const char* MeterKindName(MeterKind kind) { return kind == MeterKind::kLight ? "light" : "heavy"; }

const char* MeterStatusName(MeterStatus status) {
  switch (status) {
    case MeterStatus::kOk: return "ok";
    case MeterStatus::kUnavailable: return "unavailable";
    case MeterStatus::kFailed: return "failed";
  }
  return "failed";
}

nlohmann::json FindingToJson(const Finding& f) {
  nlohmann::json j = {{"code", f.code}, {"message", f.message}};
  if (!f.details.empty()) j["details"] = f.details;
  return j;
}

nlohmann::json MeterResultToJson(const MeterResult& r) {
  nlohmann::json j;
  j["status"] = MeterStatusName(r.status);
  if (!r.reason.empty()) j["reason"] = r.reason;
  j["claims"] = r.claims;
  j["conditions"] = r.conditions;
  j["duration_seconds"] = r.duration_seconds;
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : r.findings) findings.push_back(FindingToJson(f));
  j["findings"] = std::move(findings);
  return j;
}

}  // namespace resmeter
