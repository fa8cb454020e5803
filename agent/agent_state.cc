#include "agent/agent_state.h"

namespace resmeter {

void AgentState::RecordRuns(const std::vector<MeterRun>& runs, double wall) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& run : runs) {
    MeterRecord& rec = meters_[run.name];
    rec.run = run;
    if (rec.run.measured_at_unix_seconds <= 0) rec.run.measured_at_unix_seconds = wall;
    rec.measured_at_unix_seconds = rec.run.measured_at_unix_seconds;
    switch (run.result.status) {
      case MeterStatus::kOk:
        ++rec.ok;
        rec.last_ok_unix_seconds = rec.measured_at_unix_seconds;
        break;
      case MeterStatus::kUnavailable:
        ++rec.unavailable;
        break;
      case MeterStatus::kFailed:
        ++rec.failed;
        break;
    }
    for (const Finding& f : run.result.findings) {
      // Codes are the meters' own constants; the cap only guards against a meter that makes them up.
      if (rec.findings_by_code.size() < kMaxFindingCodesPerMeter || rec.findings_by_code.count(f.code))
        ++rec.findings_by_code[f.code];
    }
  }
}

std::map<std::string, MeterRecord> AgentState::Meters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return meters_;
}

std::vector<MeterRun> AgentState::LatestHeavyRuns() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<MeterRun> out;
  for (const auto& [name, rec] : meters_) {
    if (rec.run.kind == MeterKind::kHeavy) out.push_back(rec.run);
  }
  return out;
}

void AgentState::SetLatestReport(SignedReport report) {
  std::lock_guard<std::mutex> lock(mu_);
  latest_ = std::move(report);
}

std::optional<SignedReport> AgentState::LatestReport() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

nlohmann::json AgentState::TimeClaim() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!latest_ || !latest_->claims.contains("time")) return nullptr;
  return latest_->claims["time"];
}

void AgentState::RecordAttest(const std::string& outcome, double wall) {
  std::lock_guard<std::mutex> lock(mu_);
  if (outcome == "ok") {
    ++attests_.ok;
    attests_.last_unix_seconds = wall;
  } else if (outcome == "rate_limited") {
    ++attests_.rate_limited;
  } else if (outcome == "busy") {
    ++attests_.busy;
  } else if (outcome == "rejected") {
    ++attests_.rejected;
  } else {
    ++attests_.failed;
  }
}

AttestCounts AgentState::Attests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return attests_;
}

void AgentState::SetLedgerHead(const LedgerHead& head) {
  std::lock_guard<std::mutex> lock(mu_);
  ledger_ = head;
}

LedgerHead AgentState::Ledger() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ledger_;
}

void AgentState::RecordHeavyCycle(const std::string& trigger) {
  std::lock_guard<std::mutex> lock(mu_);
  ++heavy_cycles_[trigger];
}

std::map<std::string, uint64_t> AgentState::HeavyCycles() const {
  std::lock_guard<std::mutex> lock(mu_);
  return heavy_cycles_;
}

void AgentState::RecordReload(bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  ++reloads_[ok ? "ok" : "error"];
}

std::map<std::string, uint64_t> AgentState::Reloads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reloads_;
}

void AgentState::SetEffectiveLightInterval(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  light_interval_ = seconds;
}

double AgentState::EffectiveLightInterval() const {
  std::lock_guard<std::mutex> lock(mu_);
  return light_interval_;
}

}  // namespace resmeter
