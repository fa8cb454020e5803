// CpuAvailabilitySampler's estimator on a simulated vCPU: a fake clock that
// the fake chain advances, with a CFS-style quota (a budget of CPU time per
// period, refilled at each period boundary, full after an idle spell) or a
// host that deschedules the vCPU without the guest noticing.
#include "meters/cpu/cpu_availability_sampler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>

#include "agent/usage_accountant.h"

namespace resmeter {
namespace {

// An Env whose only working part is a clock that tests advance.
class FakeClockEnv final : public Env {
 public:
  Result<std::string> ReadFile(const std::string& path) const override { return Status::NotFound(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) const override {
    return Status::NotFound(path);
  }
  bool Exists(const std::string&) const override { return false; }
  double MonotonicSeconds() const override { return now; }
  double WallSeconds() const override { return 1.7e9 + now; }
  void SleepFor(double seconds) override { now += seconds; }
  double now = 1000;
};

// One vCPU that may run quota_ratio x period of every period (the budget
// refills at period boundaries). hidden: the guest's CPU clock keeps running
// while the vCPU is held (a host that deschedules it without reporting
// steal); otherwise the lost time is the guest cgroup's throttled time.
class SimulatedVcpu {
 public:
  SimulatedVcpu(FakeClockEnv* env, double quota_ratio, double period_seconds, bool hidden)
      : env_(env), quota_(quota_ratio * period_seconds), period_(period_seconds), hidden_(hidden) {}

  // Runs `blocks` blocks of work (1 us each at full speed), advancing the clock.
  void Run(uint64_t blocks) {
    double need = static_cast<double>(blocks) * kSecondsPerBlock;
    while (need > 1e-12) {
      const double index = std::floor(env_->now / period_ + 1e-9);
      if (index != period_index_) {
        period_index_ = index;
        budget_ = quota_;
      }
      const double period_end = (index + 1) * period_;
      if (budget_ <= 1e-12) {  // held until the next period
        const double held = period_end - env_->now;
        if (hidden_)
          cpu_seconds_ += held;
        else
          throttled_seconds_ += held;
        env_->now = period_end;
        continue;
      }
      const double x = std::min({need, budget_, period_end - env_->now});
      env_->now += x;
      cpu_seconds_ += x;
      budget_ -= x;
      need -= x;
    }
  }
  ChainSource Source() {
    return {[this](uint64_t b) { Run(b); }, [this] { return cpu_seconds_; }};
  }
  double throttled_seconds() const { return throttled_seconds_; }
  static constexpr double kSecondsPerBlock = 1e-6;

 private:
  FakeClockEnv* env_;
  double quota_, period_;
  bool hidden_;
  double budget_ = 0;
  double period_index_ = -1;
  double cpu_seconds_ = 0, throttled_seconds_ = 0;
};

// The availability one challenge reads on a fresh (idle until now) vCPU whose
// quota period starts `phase` seconds before the challenge.
double ChallengeAvailability(double quota_ratio, double phase, bool hidden, double warmup) {
  FakeClockEnv env;
  env.now = 100.0 + phase;
  SimulatedVcpu vcpu(&env, quota_ratio, 0.1, hidden);
  AvailabilitySamplerOptions o;
  o.warmup_seconds = warmup;
  o.window_seconds = 0.2;
  double throttled_at_window = 0;
  ChallengeRuns runs = RunChallenge(env, o, /*chunk_blocks=*/1000, nullptr, vcpu.Source(),
                                    [&] { throttled_at_window = vcpu.throttled_seconds(); });
  const ChallengeWindow w = WindowOfChallenge(runs, 0, vcpu.throttled_seconds() - throttled_at_window);
  return ComputeAvailability(w).availability_ratio;
}

TEST(cpu_availability_sampler_test, guest_cgroup_quota_of_half_reads_half_at_every_phase) {
  for (int i = 0; i < 20; ++i) {
    const double phase = 0.1 * i / 20;
    EXPECT_NEAR(ChallengeAvailability(0.5, phase, false, 0.1), 0.5, 0.03) << "phase " << phase;
  }
}

TEST(cpu_availability_sampler_test, host_that_hides_the_loss_reads_its_share) {
  for (int i = 0; i < 20; ++i) {
    const double phase = 0.1 * i / 20;
    EXPECT_NEAR(ChallengeAvailability(0.25, phase, true, 0.1), 0.25, 0.03) << "phase " << phase;
  }
}

// A window that closes while the quota holds the thread ends at its
// deadline: the throttled stretch until the crossing chunk finishes is not
// part of it (it used to add up to half a period of idle wall time).
TEST(cpu_availability_sampler_test, window_closing_while_throttled_ends_at_its_deadline) {
  int closed_while_throttled = 0;
  for (int i = 0; i < 20; ++i) {
    FakeClockEnv env;
    env.now = 100.0 + 0.1 * i / 20;
    SimulatedVcpu vcpu(&env, 0.5, 0.1, false);
    RunChainFor(env, 0.2, 1000, nullptr, vcpu.Source());  // spends the budget saved while idle
    const double throttled_before = vcpu.throttled_seconds();
    const ChainRun run = RunChainFor(env, 0.33, 1000, nullptr, vcpu.Source());
    if (run.span_seconds > 0.335) ++closed_while_throttled;
    EXPECT_NEAR(run.wall_seconds, 0.33, 1e-9) << "start phase " << i;
    const double ran_seconds =
        static_cast<double>(run.ops) / kChainOpsPerBlock * SimulatedVcpu::kSecondsPerBlock;
    // 3 whole periods run 0.15 s; the 0.03 s beyond them run 0-0.03 s.
    EXPECT_GE(ran_seconds, 0.15 - 1e-6) << "start phase " << i;
    EXPECT_LE(ran_seconds, 0.18 + 1e-6) << "start phase " << i;
    EXPECT_GT(vcpu.throttled_seconds(), throttled_before);
  }
  EXPECT_GT(closed_while_throttled, 0) << "no start phase put the deadline in a throttled stretch";
}

TEST(cpu_availability_sampler_test, no_quota_reads_full) {
  EXPECT_NEAR(ChallengeAvailability(1.0, 0.037, false, 0.1), 1.0, 1e-6);
}

TEST(cpu_availability_sampler_test, without_warmup_the_idle_budget_inflates_the_estimate) {
  // Why rounds warm up: a quota's budget is full after an idle spell, so a
  // window that starts cold over-reads (q + P/(4W) on average).
  double sum = 0;
  for (int i = 0; i < 20; ++i) sum += ChallengeAvailability(0.5, 0.1 * i / 20, false, 0.0);
  EXPECT_GT(sum / 20, 0.58);
}

TEST(cpu_availability_sampler_test, interval_follows_the_cpu_budget) {
  EXPECT_DOUBLE_EQ(MeanRoundIntervalSeconds(0.6, 0.005, 0), 120);
  EXPECT_DOUBLE_EQ(MeanRoundIntervalSeconds(0.6, 0.005, 2), 2);
  EXPECT_DOUBLE_EQ(MeanRoundIntervalSeconds(0.001, 0.5, 0), 0.5);  // floor
}

TEST(cpu_availability_sampler_test, secure_uniform_is_in_range_and_varies) {
  double lo = 1, hi = 0;
  for (int i = 0; i < 200; ++i) {
    const double u = SecureUniform();
    ASSERT_GE(u, 0);
    ASSERT_LT(u, 1);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  EXPECT_LT(lo, 0.2);
  EXPECT_GT(hi, 0.8);
}

TEST(cpu_availability_sampler_test, accountant_marks_a_period_without_rounds_unmeasured) {
  FakeClockEnv env;
  CpuAvailabilitySampler sampler(&env, AvailabilitySamplerOptions{});  // never started: no round
  UsageAccountant acc(&env, "/nonexistent-root/proc", 100);
  acc.Begin();
  acc.AttachSampler(&sampler);
  env.now += 60;
  PeriodUsage u = acc.ClosePeriod();
  EXPECT_TRUE(u.availability.sampled);
  EXPECT_EQ(u.availability.samples, 0u);
  EXPECT_EQ(u.availability.measured_ratio, 0);
  acc.AttachSampler(nullptr);
  env.now += 60;
  EXPECT_FALSE(acc.ClosePeriod().availability.sampled);
}

}  // namespace
}  // namespace resmeter
