#include "meters/cpu/cpu_availability_sampler.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <map>
#include <random>

#include "meters/cpu/cpu_loss_counters.h"

namespace resmeter {

ChallengeRuns RunChallenge(const Env& env, const AvailabilitySamplerOptions& options, uint64_t chunk_blocks,
                           const std::atomic<bool>* stop, const ChainSource& source,
                           const std::function<void()>& between) {
  ChallengeRuns r;
  r.warmup = RunChainFor(env, options.warmup_seconds, chunk_blocks, stop, source);
  if (between) between();
  r.window = RunChainFor(env, options.window_seconds, chunk_blocks, stop, source);
  return r;
}

ChallengeWindow WindowOfChallenge(const ChallengeRuns& runs, double steal_seconds, double throttled_seconds) {
  ChallengeWindow w;
  w.work_ops = static_cast<double>(runs.window.ops);
  std::vector<double> rates = runs.warmup.rates;
  rates.insert(rates.end(), runs.window.rates.begin(), runs.window.rates.end());
  w.clock_hz = TypicalRate(std::move(rates));
  w.wall_seconds = runs.window.wall_seconds;
  w.cpu_seconds = runs.window.cpu_seconds;
  w.steal_seconds = steal_seconds;
  w.throttled_seconds = throttled_seconds;
  return w;
}

double MeanRoundIntervalSeconds(double round_cpu_seconds, double budget_ratio, double configured) {
  double mean = configured > 0 ? configured : (budget_ratio > 0 ? round_cpu_seconds / budget_ratio : 3600.0);
  return std::max(0.5, mean);
}

double SecureUniform() {
  uint64_t x = 0;
  if (getrandom(&x, sizeof x, 0) != static_cast<ssize_t>(sizeof x)) {
    std::random_device rd;  // getrandom unavailable (very old kernel): the library's nondeterministic source
    x = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  return static_cast<double>(x >> 11) * (1.0 / 9007199254740992.0);  // 53 random bits
}

CpuAvailabilitySampler::CpuAvailabilitySampler(Env* env, AvailabilitySamplerOptions options)
    : env_(env), options_(std::move(options)), start_mono_(env->MonotonicSeconds()) {}

CpuAvailabilitySampler::~CpuAvailabilitySampler() { Stop(); }

Status CpuAvailabilitySampler::Start() {
  if (!DependentChainIsCalibrated()) return Status::NotSupported("no calibrated chain for this architecture");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable()) return Status::Ok();
    start_mono_ = env_->MonotonicSeconds();
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void CpuAvailabilitySampler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

double CpuAvailabilitySampler::RoundCpuEstimate() const {
  if (last_round_cpu_ > 0) return last_round_cpu_;
  Result<std::vector<int>> cpus = AllowedCpus();
  const double n = cpus.ok() ? static_cast<double>(cpus->size()) : 1.0;
  return n * (options_.warmup_seconds + options_.window_seconds);
}

void CpuAvailabilitySampler::Loop() {
  double own_cpu = ThreadCpuSeconds();
  double wait;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The first round comes anywhere within one mean interval.
    wait =
        MeanRoundIntervalSeconds(RoundCpuEstimate(), options_.cpu_budget_ratio, options_.interval_seconds) *
        SecureUniform();
  }
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, std::chrono::duration<double>(wait), [&] { return stop_.load(); })) return;
    }
    const double before_round = ThreadCpuSeconds();
    (void)RunRound();  // a failure is kept in Stats().last_error
    const double after_round = ThreadCpuSeconds();
    std::lock_guard<std::mutex> lock(mu_);
    stats_.cpu_seconds += before_round - own_cpu;  // the coordinator's time outside rounds
    own_cpu = after_round;
    wait =
        MeanRoundIntervalSeconds(RoundCpuEstimate(), options_.cpu_budget_ratio, options_.interval_seconds) *
        (0.5 + SecureUniform());
  }
}

Status CpuAvailabilitySampler::RunRound() {
  const double caller_cpu0 = ThreadCpuSeconds();
  Result<std::vector<int>> cpus_or = AllowedCpus();
  if (!cpus_or.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.last_error = cpus_or.status().message();
    return cpus_or.status();
  }
  const std::vector<int> cpus = *cpus_or;
  uint64_t chunk_blocks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (chunk_blocks_ == 0) chunk_blocks_ = CalibrateChunkBlocks(*env_, options_.chunk_seconds);
    chunk_blocks = chunk_blocks_;
  }
  MeterContext ctx;
  ctx.env = env_;
  ctx.proc_root = options_.proc_root;
  ctx.sys_root = options_.sys_root;

  const size_t n = cpus.size();
  CpuLossCounters before, after;
  std::barrier window_start(static_cast<std::ptrdiff_t>(n),
                            [&]() noexcept { before = ReadCpuLossCounters(ctx); });
  std::barrier window_end(static_cast<std::ptrdiff_t>(n),
                          [&]() noexcept { after = ReadCpuLossCounters(ctx); });
  std::vector<ChallengeRuns> runs(n);
  std::vector<std::string> errors(n);
  std::vector<double> thread_cpu(n, 0);
  RunPinnedThreads(cpus, [&](size_t i, int, const Status& pinned) {
    const double c0 = ThreadCpuSeconds();
    if (pinned.ok()) {
      TrySetThreadNice(options_.nice);
      runs[i] = RunChallenge(*env_, options_, chunk_blocks, &stop_, RealChainSource(),
                             [&] { window_start.arrive_and_wait(); });
    } else {
      errors[i] = pinned.message();
      window_start.arrive_and_wait();
    }
    window_end.arrive_and_wait();
    thread_cpu[i] = ThreadCpuSeconds() - c0;
  });

  const double throttled_each = ThrottledSecondsBetween(before, after) / static_cast<double>(n);
  double round_cpu = ThreadCpuSeconds() - caller_cpu0;
  for (double c : thread_cpu) round_cpu += c;
  uint64_t measured = 0;
  double ratio_sum = 0;
  std::string error;
  for (size_t i = 0; i < n; ++i) {
    if (!errors[i].empty()) {
      error = "cpu " + std::to_string(cpus[i]) + ": " + errors[i];
      continue;
    }
    if (runs[i].window.best_hz <= 0 || runs[i].window.wall_seconds <= 0) {
      error = "cpu " + std::to_string(cpus[i]) + ": no chunk of the window completed";
      continue;
    }
    const ChallengeWindow w =
        WindowOfChallenge(runs[i], StealSecondsBetween(before, after, cpus[i]), throttled_each);
    ratio_sum += ComputeAvailability(w).availability_ratio;
    ++measured;
  }

  std::lock_guard<std::mutex> lock(mu_);
  stats_.cpu_seconds += round_cpu;
  last_round_cpu_ = round_cpu;
  if (stop_) return Status::Cancelled("availability round abandoned: sampler stopping");
  if (measured == 0) {
    stats_.last_error = error.empty() ? "no vcpu measured" : error;
    return Status::Corruption("availability round: " + stats_.last_error);
  }
  ++stats_.rounds;
  stats_.samples += measured;
  stats_.last_availability_ratio = ratio_sum / static_cast<double>(measured);
  stats_.last_error = error;
  period_.samples += measured;
  period_.ratio_sum += ratio_sum;
  period_.vcpus = n;
  return Status::Ok();
}

AvailabilityPeriodSamples CpuAvailabilitySampler::TakePeriod() {
  const double now = env_->MonotonicSeconds();
  std::lock_guard<std::mutex> lock(mu_);
  AvailabilityPeriodSamples p = period_;
  const double wall = now - start_mono_;
  p.sampler_cpu_ratio = wall > 0 ? stats_.cpu_seconds / wall : 0;
  period_.samples = 0;
  period_.ratio_sum = 0;
  return p;
}

AvailabilitySamplerStats CpuAvailabilitySampler::Stats() const {
  const double now = env_->MonotonicSeconds();
  std::lock_guard<std::mutex> lock(mu_);
  AvailabilitySamplerStats s = stats_;
  s.wall_seconds = now - start_mono_;
  s.cpu_ratio = s.wall_seconds > 0 ? s.cpu_seconds / s.wall_seconds : 0;
  return s;
}

}  // namespace resmeter
