#include "agent/scheduler.h"

#include <algorithm>
#include <chrono>

#include "agent/process_stats.h"
#include "agent/report_producer.h"
#include "core/strings.h"
#include "jose/openssl_util.h"

namespace resmeter {
namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point After(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace

Scheduler::Scheduler(Deps deps, std::shared_ptr<const Config> config)
    : deps_(std::move(deps)),
      config_(std::move(config)),
      heavy_schedule_(deps_.uniform ? deps_.uniform : HeavySchedule::UniformSource(CsprngUniform)),
      stamper_(deps_.env) {}

Scheduler::~Scheduler() { Stop(); }

Status Scheduler::CheckOnDemandHeavy(const Config& config, const std::string& name) {
  const MeterInfo* info = FindMeter(name);
  if (info == nullptr) return Status::InvalidArgument("unknown meter '" + name.substr(0, 64) + "'");
  if (info->kind != MeterKind::kHeavy) {
    return Status::InvalidArgument("'" + name +
                                   "' is a light meter (light meters run with every attestation)");
  }
  if (!config.Meter(name).Bool("enabled")) {
    return Status::PermissionDenied("meter '" + name + "' is disabled on this agent (meters." + name +
                                    ".enabled)");
  }
  return Status::Ok();
}

double Scheduler::NextStretch(double stretch, double cpu_ratio, double budget) {
  if (cpu_ratio > budget) return std::min(4.0, stretch * 1.5);
  if (cpu_ratio < budget / 2) return std::max(1.0, stretch / 1.5);
  return stretch;
}

std::shared_ptr<const Config> Scheduler::config() const {
  std::lock_guard<std::mutex> lock(config_mu_);
  return config_;
}

void Scheduler::UpdateConfig(std::shared_ptr<const Config> config) {
  {
    std::lock_guard<std::mutex> lock(config_mu_);
    config_ = std::move(config);
  }
  std::lock_guard<std::mutex> lock(mu_);
  reschedule_heavy_ = true;
  cv_.notify_all();
}

void Scheduler::RequestHeavy() {
  std::lock_guard<std::mutex> lock(mu_);
  heavy_requested_ = true;
  cv_.notify_all();
}

void Scheduler::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    stopping_.store(true);
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

std::vector<MeterRun> Scheduler::RunPlans(const Config& config, MeterKind kind, const std::string& trigger,
                                          const std::vector<std::string>* names) {
  auto selected = SelectMeters({}, {}, [&](const MeterInfo& m) {
    if (names != nullptr && std::find(names->begin(), names->end(), m.name) == names->end()) return false;
    return m.kind == kind && config.Meter(m.name).Bool("enabled");
  });
  std::vector<MeterRun> runs;
  if (!selected.ok()) return runs;  // cannot happen without names
  RunnerRoots roots = RunnerRootsFromConfig(config, *deps_.key);
  roots.stop = &stopping_;  // SIGTERM cancels a running benchmark instead of waiting it out
  MeterRunner runner(deps_.env, std::move(roots));
  for (const MeterPlan& plan : PlanMeters(config, *selected)) {
    if (stopping_.load()) break;
    MeterRun run = runner.Run(plan);  // stamps measured_at when it returns
    run.trigger = trigger;
    if (run.result.status == MeterStatus::kFailed) {
      deps_.log->Warn("meter failed", {{"meter", run.name}, {"reason", run.result.reason}});
    }
    runs.push_back(std::move(run));
  }
  const double wall = deps_.env->WallSeconds();
  deps_.state->RecordRuns(runs, wall);
  if (deps_.on_runs) deps_.on_runs(runs, wall);
  return runs;
}

Result<SignedReport> Scheduler::SignLatest(const Config& config,
                                           const std::optional<std::string>& nonce_hex) {
  auto records = deps_.state->Meters();
  std::vector<MeterRun> runs;
  for (const MeterInfo& info : MeterRegistry()) {  // report order, enabled meters only
    auto it = records.find(info.name);
    if (it != records.end() && config.Meter(info.name).Bool("enabled")) runs.push_back(it->second.run);
  }
  RESMETER_ASSIGN_OR_RETURN(
      ProducedReport produced,
      SignMeterRuns(config, std::move(runs), nonce_hex, *deps_.key, deps_.env, std::nullopt, &stamper_));
  SignedReport report;
  report.token = std::move(produced.token);
  report.claims = std::move(produced.claims);
  report.digest_hex = HexEncode(Sha256(report.token));
  report.issued_at_unix_seconds = report.claims.value("iat", 0.0);
  if (!nonce_hex) deps_.state->SetLatestReport(report);
  return report;
}

Status Scheduler::RunLightCycle() {
  auto cfg = config();
  std::unique_lock<std::timed_mutex> lock(measure_mu_);
  const double t0 = deps_.env->MonotonicSeconds();
  auto runs = RunPlans(*cfg, MeterKind::kLight, kTriggerSchedule);
  auto report = SignLatest(*cfg, std::nullopt);
  if (!report.ok()) {
    deps_.log->Error("cannot sign report", {{"error", report.status().message()}});
    return report.status();
  }
  deps_.log->Debug("light cycle", {{"meters", runs.size()},
                                   {"duration_seconds", deps_.env->MonotonicSeconds() - t0},
                                   {"report_digest", report->digest_hex}});
  return Status::Ok();
}

Status Scheduler::RunHeavyCycle(const std::string& trigger) {
  auto cfg = config();
  std::unique_lock<std::timed_mutex> lock(measure_mu_);
  const double cpu0 = ProcessCpuSeconds();
  const double t0 = deps_.env->MonotonicSeconds();
  deps_.log->Info("heavy cycle starting", {{"trigger", trigger}});
  auto runs = RunPlans(*cfg, MeterKind::kHeavy, trigger);
  deps_.state->RecordHeavyCycle(trigger);
  {
    std::lock_guard<std::mutex> l(mu_);
    heavy_cpu_seconds_ += ProcessCpuSeconds() - cpu0;
  }
  auto report = SignLatest(*cfg, std::nullopt);
  deps_.log->Info("heavy cycle done", {{"trigger", trigger},
                                       {"meters", runs.size()},
                                       {"duration_seconds", deps_.env->MonotonicSeconds() - t0}});
  return report.ok() ? Status::Ok() : report.status();
}

Result<SignedReport> Scheduler::Attest(const std::string& nonce_hex,
                                       const std::vector<std::string>& heavy_meters, double wait_seconds) {
  if (stopping_.load()) return Status::Cancelled("the agent is shutting down");
  auto cfg = config();
  for (const std::string& name : heavy_meters) RESMETER_RETURN_IF_ERROR(CheckOnDemandHeavy(*cfg, name));
  std::unique_lock<std::timed_mutex> lock(measure_mu_, std::defer_lock);
  if (!lock.try_lock_for(std::chrono::duration<double>(wait_seconds))) {
    return Status::DeadlineExceeded("another measurement is still running; retry later");
  }
  // Everything below runs after the nonce arrived: the runs are fresh for this buyer.
  RunPlans(*cfg, MeterKind::kLight, kTriggerBuyerNonce);
  if (!heavy_meters.empty()) {
    const double cpu0 = ProcessCpuSeconds();
    RunPlans(*cfg, MeterKind::kHeavy, kTriggerBuyerNonce, &heavy_meters);
    deps_.state->RecordHeavyCycle(kTriggerBuyerNonce);
    std::lock_guard<std::mutex> l(mu_);
    heavy_cpu_seconds_ += ProcessCpuSeconds() - cpu0;
  }
  return SignLatest(*cfg, nonce_hex);
}

void Scheduler::Loop() {
  auto cfg = config();
  double stretch = 1.0;
  double heavy_interval = cfg->global.Double("agent.heavy_interval_seconds");
  // The next scheduled heavy run and its trigger; both stay inside this thread.
  std::optional<Clock::time_point> next_heavy;
  std::string next_heavy_trigger = kTriggerStartup;
  auto schedule_heavy = [&](bool first) {
    heavy_interval = config()->global.Double("agent.heavy_interval_seconds");
    if (heavy_interval <= 0) {
      next_heavy.reset();
      return;
    }
    next_heavy = After(first ? heavy_schedule_.FirstDelaySeconds(heavy_interval)
                             : heavy_schedule_.NextDelaySeconds(heavy_interval));
    next_heavy_trigger = first ? kTriggerStartup : kTriggerSchedule;
  };
  schedule_heavy(true);
  auto next_light = Clock::now();
  double last_cpu = ProcessCpuSeconds();
  double last_heavy_cpu = 0;
  double last_mono = deps_.env->MonotonicSeconds();

  for (;;) {
    bool run_signalled = false, run_scheduled = false, run_light = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto deadline = next_light;
      if (next_heavy && *next_heavy < deadline) deadline = *next_heavy;
      cv_.wait_until(lock, deadline, [&] { return stop_ || heavy_requested_ || reschedule_heavy_; });
      if (stop_) break;
      if (reschedule_heavy_) {
        reschedule_heavy_ = false;
        const double new_interval = config()->global.Double("agent.heavy_interval_seconds");
        if (new_interval != heavy_interval) {
          lock.unlock();
          schedule_heavy(false);
          continue;
        }
      }
      const auto now = Clock::now();
      if (heavy_requested_) {
        heavy_requested_ = false;
        run_signalled = true;
      }
      run_scheduled = next_heavy && now >= *next_heavy;
      run_light = now >= next_light;
    }
    // A signal runs the heavy meters now but leaves the secret schedule alone,
    // so the host learns nothing about the next scheduled run from it.
    if (run_signalled && !run_scheduled) (void)RunHeavyCycle(kTriggerProviderSignal);
    if (run_scheduled) {  // one run when both are due at once
      (void)RunHeavyCycle(next_heavy_trigger);
      schedule_heavy(false);
    }
    if (run_light) {
      (void)RunLightCycle();
      // The CPU budget: what the agent used since the last light cycle, heavy runs excluded.
      const double cpu = ProcessCpuSeconds();
      const double mono = deps_.env->MonotonicSeconds();
      double heavy_cpu;
      {
        std::lock_guard<std::mutex> lock(mu_);
        heavy_cpu = heavy_cpu_seconds_;
      }
      const double wall = mono - last_mono;
      if (wall > 0) {
        const double ratio = std::max(0.0, (cpu - last_cpu) - (heavy_cpu - last_heavy_cpu)) / wall;
        const double budget = config()->global.Double("agent.cpu_budget_ratio");
        const double next = NextStretch(stretch, ratio, budget);
        if (next != stretch) {
          deps_.log->Warn(next > stretch ? "over CPU budget: stretching the light interval"
                                         : "within CPU budget: shortening the light interval",
                          {{"cpu_ratio", ratio}, {"budget_ratio", budget}, {"stretch", next}});
        }
        stretch = next;
      }
      last_cpu = cpu;
      last_heavy_cpu = heavy_cpu;
      last_mono = mono;
      const double interval = config()->global.Double("agent.light_interval_seconds") * stretch;
      deps_.state->SetEffectiveLightInterval(interval);
      next_light = After(interval);
    }
  }
}

}  // namespace resmeter
