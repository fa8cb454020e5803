// Unit tests of the agent's small pieces: rate limiter, heavy schedule
// jitter, CPU budget stretch, logger formats.
#include <gtest/gtest.h>

#include <cstdio>

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

TEST(scheduler_test, heavy_delay_stays_within_jitter) {
  EXPECT_DOUBLE_EQ(Scheduler::NextHeavyDelay(3600, 0.1, 0.0), 3240);
  EXPECT_DOUBLE_EQ(Scheduler::NextHeavyDelay(3600, 0.1, 0.5), 3600);
  EXPECT_NEAR(Scheduler::NextHeavyDelay(3600, 0.1, 0.999999), 3960, 0.01);
  EXPECT_DOUBLE_EQ(Scheduler::NextHeavyDelay(3600, 0.0, 0.9), 3600);
  EXPECT_DOUBLE_EQ(Scheduler::FirstHeavyDelay(3600, 0.1, 0.5), 180);
  EXPECT_DOUBLE_EQ(Scheduler::FirstHeavyDelay(3600, 0.1, 0.0), 1);  // never at once
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
