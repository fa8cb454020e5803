// Unit tests of the agent's small pieces: rate limiter, the random heavy
// schedule, CPU budget stretch, logger formats.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "agent/heavy_schedule.h"
#include "agent/logger.h"
#include "agent/rate_limiter.h"
#include "agent/scheduler.h"

namespace resmeter {
namespace {

TEST(rate_limiter_test, admits_burst_then_refills_at_rate) {
  RateLimiter rl(6, 3);  // one token every 10 s
  double retry = 0;
  EXPECT_TRUE(rl.TryAcquire(100, &retry));
  EXPECT_TRUE(rl.TryAcquire(100, &retry));
  EXPECT_TRUE(rl.TryAcquire(100, &retry));
  EXPECT_FALSE(rl.TryAcquire(100, &retry));
  EXPECT_NEAR(retry, 10.0, 1e-9);
  EXPECT_FALSE(rl.TryAcquire(105, &retry));
  EXPECT_NEAR(retry, 5.0, 1e-9);
  EXPECT_TRUE(rl.TryAcquire(110, &retry));
  // A long quiet period refills to the burst, not beyond.
  EXPECT_TRUE(rl.TryAcquire(10000, &retry));
  EXPECT_TRUE(rl.TryAcquire(10000, &retry));
  EXPECT_TRUE(rl.TryAcquire(10000, &retry));
  EXPECT_FALSE(rl.TryAcquire(10000, &retry));
}

TEST(rate_limiter_test, reconfigure_caps_tokens) {
  RateLimiter rl(60, 10);
  rl.Reconfigure(60, 1);
  double retry = 0;
  EXPECT_TRUE(rl.TryAcquire(0, &retry));
  EXPECT_FALSE(rl.TryAcquire(0, &retry));
  EXPECT_NEAR(retry, 1.0, 1e-9);
}

TEST(heavy_schedule_test, gaps_have_the_interval_as_mean_and_stay_within_bounds) {
  // 200000 draws from a seeded generator in place of the CSPRNG.
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  HeavySchedule schedule([&] { return unit(rng); });
  const double interval = 3600;
  const int n = 200000;
  double sum = 0, sum_sq = 0, lo = 1e300, hi = 0;
  int at_floor = 0, at_ceiling = 0, under_half = 0;
  for (int i = 0; i < n; ++i) {
    const double d = schedule.NextDelaySeconds(interval);
    sum += d;
    sum_sq += d * d;
    lo = std::min(lo, d);
    hi = std::max(hi, d);
    at_floor += d == 900;
    at_ceiling += d == 14400;
    under_half += d < 1800;
  }
  const double mean = sum / n;
  const double sd = std::sqrt(sum_sq / n - mean * mean);
  std::printf(
      "    mean %.1f s (interval 3600), sd %.1f s, min %.1f s, max %.1f s, floor %.4f, ceiling %.4f\n", mean,
      sd, lo, hi, double(at_floor) / n, double(at_ceiling) / n);
  EXPECT_NEAR(mean, interval, 0.01 * interval);  // the standard error is about 0.2%
  EXPECT_GE(lo, 0.25 * interval);
  EXPECT_LE(hi, 4 * interval);
  // Exponential, not a jittered constant: the spread is close to the mean
  // (sd/mean about 0.89 after clamping), both bounds are hit as often as the
  // exponential's tails say, and P(gap < interval/2) = 1 - e^(-0.5/s) = 0.397.
  EXPECT_GT(sd, 0.8 * interval);
  EXPECT_NEAR(double(at_floor) / n, 1 - std::exp(-0.25 / HeavySchedule::ExponentialScale()), 0.005);
  EXPECT_NEAR(double(at_ceiling) / n, std::exp(-4 / HeavySchedule::ExponentialScale()), 0.002);
  EXPECT_NEAR(double(under_half) / n, 1 - std::exp(-0.5 / HeavySchedule::ExponentialScale()), 0.005);
}

TEST(heavy_schedule_test, scale_makes_the_clamped_mean_exact_and_draws_map_monotonically) {
  const double s = HeavySchedule::ExponentialScale();
  EXPECT_NEAR(0.25 + s * (std::exp(-0.25 / s) - std::exp(-4 / s)), 1.0, 1e-12);
  EXPECT_GT(s, 0.98);
  EXPECT_LT(s, 1.0);
  EXPECT_DOUBLE_EQ(HeavySchedule::DelayForUniform(100, 0.0), 25);                     // floor
  EXPECT_DOUBLE_EQ(HeavySchedule::DelayForUniform(100, 0.999999999), 400);            // ceiling
  EXPECT_NEAR(HeavySchedule::DelayForUniform(100, 1 - std::exp(-1)), 100 * s, 1e-9);  // E = 1
  double prev = 0;
  for (double u = 0; u < 1; u += 0.01) {
    EXPECT_GE(HeavySchedule::DelayForUniform(100, u), prev);
    prev = HeavySchedule::DelayForUniform(100, u);
  }
}

TEST(heavy_schedule_test, first_run_comes_within_a_quarter_interval_never_at_once) {
  double u = 0;
  HeavySchedule schedule([&] { return u; });
  EXPECT_DOUBLE_EQ(schedule.FirstDelaySeconds(3600), 1);
  u = 0.5;
  EXPECT_DOUBLE_EQ(schedule.FirstDelaySeconds(3600), 450);
  u = 0.999;
  EXPECT_LT(schedule.FirstDelaySeconds(3600), 900);
}

TEST(heavy_schedule_test, csprng_draws_are_uniform_in_the_unit_interval) {
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = CsprngUniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);  // 7 standard errors
}

TEST(scheduler_test, cpu_budget_stretches_and_recovers) {
  double s = 1;
  s = Scheduler::NextStretch(s, 0.05, 0.01);
  EXPECT_DOUBLE_EQ(s, 1.5);
  for (int i = 0; i < 10; ++i) s = Scheduler::NextStretch(s, 0.05, 0.01);
  EXPECT_DOUBLE_EQ(s, 4.0);
  s = Scheduler::NextStretch(s, 0.007, 0.01);  // within budget, not under half: keep
  EXPECT_DOUBLE_EQ(s, 4.0);
  for (int i = 0; i < 10; ++i) s = Scheduler::NextStretch(s, 0.001, 0.01);
  EXPECT_DOUBLE_EQ(s, 1.0);
}

TEST(logger_test, logfmt_quotes_only_what_needs_it) {
  Logger log;
  const std::string line = log.Format(LogLevel::kWarn, 0.25, "meter failed",
                                      {{"meter", "cpu.time"}, {"reason", "no \"stat\"\nfile"}, {"n", 3}});
  EXPECT_EQ(line,
            "ts=1970-01-01T00:00:00.250Z level=warn msg=\"meter failed\" meter=cpu.time "
            "reason=\"no \\\"stat\\\"\\nfile\" n=3");
}

TEST(logger_test, json_lines_are_one_object) {
  Logger log;
  log.SetFormat("json");
  const std::string line = log.Format(LogLevel::kInfo, 0, "x", {{"k", "v w"}});
  EXPECT_EQ(line, R"({"ts":"1970-01-01T00:00:00.000Z","level":"info","msg":"x","k":"v w"})");
}

TEST(logger_test, level_filters) {
  Logger log;
  log.SetLevel("warn");
  EXPECT_FALSE(log.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(log.Enabled(LogLevel::kError));
}

}  // namespace
}  // namespace resmeter
