#include "agent/usage_accountant.h"

#include "claims/gpu_claim_specs.h"
#include "claims/memory_claim_specs.h"

namespace resmeter {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// A declared numeric claim of an ok run, if present.
std::optional<double> NumericClaim(const MeterRun& run, const ClaimSpec& spec) {
  if (run.result.status != MeterStatus::kOk) return std::nullopt;
  const nlohmann::json* v = FindClaim(run.result.claims, spec);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

}  // namespace

const std::vector<const ClaimSpec*>& UsageAccountant::ClaimsRead() {
  static const std::vector<const ClaimSpec*> kRead = {&kMemTotalBytes, &kGpuCount};
  return kRead;
}

void UsageAccountant::Integral::Advance(double mono) {
  if (value && mono > since) {
    sum += *value * (mono - since);
    covered += mono - since;
  }
  since = mono;
}

UsageAccountant::UsageAccountant(Env* env, std::string proc_root, double user_hz)
    : env_(env), proc_root_(std::move(proc_root)), user_hz_(user_hz) {}

std::optional<ProcStat> UsageAccountant::ReadStat(std::string* why) const {
  auto text = env_->ReadFile(proc_root_ + "/stat");
  if (!text.ok()) {
    *why = text.status().message();
    return std::nullopt;
  }
  auto parsed = ParseProcStat(*text);
  if (!parsed.ok()) {
    *why = parsed.status().message();
    return std::nullopt;
  }
  return *parsed;
}

void UsageAccountant::Begin() {
  std::string why;
  auto stat = ReadStat(&why);
  std::lock_guard<std::mutex> lock(mu_);
  period_start_wall_ = env_->WallSeconds();
  period_start_mono_ = env_->MonotonicSeconds();
  stat_at_start_ = std::move(stat);
  memory_.since = gpus_.since = period_start_mono_;
}

void UsageAccountant::AttachSampler(CpuAvailabilitySampler* sampler) {
  std::lock_guard<std::mutex> lock(mu_);
  sampler_ = sampler;
  if (sampler_) (void)sampler_->TakePeriod();  // samples before the attachment belong to no period
}

void UsageAccountant::OnRuns(const std::vector<MeterRun>& runs) {
  std::lock_guard<std::mutex> lock(mu_);
  const double mono = env_->MonotonicSeconds();
  for (const MeterRun& run : runs) {
    Integral* target = nullptr;
    std::optional<double> value;
    if (run.name == kMemTotalBytes.meter) {
      target = &memory_;
      value = NumericClaim(run, kMemTotalBytes);
    } else if (run.name == kGpuCount.meter) {
      target = &gpus_;
      value = NumericClaim(run, kGpuCount);
    }
    if (!target) continue;
    target->Advance(mono);
    target->value = value;
  }
}

PeriodUsage UsageAccountant::ClosePeriod() {
  std::string why;
  auto stat = ReadStat(&why);
  std::lock_guard<std::mutex> lock(mu_);
  const double mono = env_->MonotonicSeconds();
  PeriodUsage u;
  u.start_unix_seconds = period_start_wall_;
  u.end_unix_seconds = std::max(period_start_wall_, env_->WallSeconds());

  if (stat && stat_at_start_) {
    auto w = ComputeCpuTimeWindow(*stat_at_start_, *stat, mono - period_start_mono_, user_hz_);
    if (!w.ok()) {
      u.notes.push_back("cpu: " + w.status().message());
    } else if (!w->steal_reported) {
      u.notes.push_back("cpu: /proc/stat has no steal field; delivered vCPU-seconds not measured");
    } else {
      u.cpu_measured = true;
      u.vcpu_delivered_seconds = w->delivered_vcpu_seconds;
      u.vcpu_stolen_seconds = w->total_seconds[kStealIndex];
    }
  } else {
    u.notes.push_back("cpu: " +
                      (why.empty() ? std::string("no /proc/stat reading at the period start") : why));
  }

  if (sampler_) {  // measured availability
    const AvailabilityPeriodSamples a = sampler_->TakePeriod();
    u.availability.sampled = true;
    u.availability.samples = a.samples;
    u.availability.measured_ratio = a.mean_ratio();
    u.availability.vcpus = a.vcpus;
    u.availability.sampler_cpu_ratio = a.sampler_cpu_ratio;
  }

  memory_.Advance(mono);
  gpus_.Advance(mono);
  u.memory_gib_seconds = memory_.sum / kGiB;
  u.memory_covered_seconds = memory_.covered;
  u.gpu_seconds = gpus_.sum;
  memory_.sum = memory_.covered = gpus_.sum = gpus_.covered = 0;

  period_start_wall_ = u.end_unix_seconds;
  period_start_mono_ = mono;
  if (stat) stat_at_start_ = std::move(stat);
  return u;
}

}  // namespace resmeter
