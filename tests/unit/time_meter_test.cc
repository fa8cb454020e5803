// The `time` meter without chronyd: unavailable with the reason, and clock
// jumps between two calls of one instance become findings.
#include "timesource/time_meter.h"

#include <gtest/gtest.h>

#include "meters/registry/registry.h"
#include "test_env.h"

namespace resmeter {
namespace {

MeterContext Context(Env* env) {
  MeterContext ctx;
  ctx.env = env;
  ctx.global.Set("time.chrony_socket", std::string(RESMETER_FIXTURES_DIR) + "/chrony/no-such.sock");
  ctx.global.Set("time.max_error_bound_seconds", 0.1);
  return ctx;
}

TEST(TimeMeter, is_registered_as_a_light_meter_enabled_by_default) {
  const MeterInfo* info = FindMeter("time");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->kind, MeterKind::kLight);
  EXPECT_TRUE(info->enabled_by_default);
  ASSERT_TRUE(info->factory());
}

TEST(TimeMeter, without_chronyd_is_unavailable_with_the_reason) {
  FakeClockEnv env(10, 1.7e9);
  MeterContext ctx = Context(&env);
  TimeMeter m;
  MeterResult r = m.Measure(ctx);
  EXPECT_EQ(r.status, MeterStatus::kUnavailable);
  EXPECT_EQ(r.reason.rfind("chronyd not reachable: no socket at ", 0), 0u) << r.reason;
  EXPECT_TRUE(r.claims.empty()) << "no number that was not measured";
  EXPECT_EQ(r.conditions["chronyd_state"], "absent");
  EXPECT_TRUE(r.conditions.contains("error_bound_formula"));
  EXPECT_TRUE(r.findings.empty());
}

TEST(TimeMeter, clock_step_between_calls_is_a_finding) {
  FakeClockEnv env(10, 1.7e9);
  MeterContext ctx = Context(&env);
  TimeMeter m;
  m.Measure(ctx);
  env.SleepFor(30);
  EXPECT_TRUE(m.Measure(ctx).findings.empty());
  env.SleepFor(30);
  env.wall -= 120;  // the host set the clock back two minutes
  MeterResult r = m.Measure(ctx);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].code, "clock_jump");
  EXPECT_NEAR(r.findings[0].details["jump_seconds"].get<double>(), -120, 1e-6);
}

}  // namespace
}  // namespace resmeter
