// UsageAccountant: CPU from /proc/stat over the whole period, memory and
// GPUs integrated from light-cycle runs (fixture trees, fake clock).
#include "agent/usage_accountant.h"

#include <gtest/gtest.h>

#include "test_env.h"

namespace resmeter {
namespace {

MeterRun MakeRun(const std::string& name, MeterStatus status, nlohmann::json claims) {
  MeterRun r;
  r.name = name;
  r.result.status = status;
  r.result.claims = std::move(claims);
  return r;
}

TEST(usage_accountant_test, cpu_over_the_period_from_proc_stat) {
  // steal/t0 -> t1 one second later: 4 vCPUs, 100 ticks of steal in all (fixture README).
  SnapshotEnv env =
      SnapshotEnv::Sequence(std::string(RESMETER_FIXTURES_DIR) + "/cpu_time/steal", {"t0", "t1"}, 1);
  UsageAccountant acc(&env, "/proc", 100);
  acc.Begin();
  env.SleepFor(1);
  PeriodUsage u = acc.ClosePeriod();
  ASSERT_TRUE(u.cpu_measured) << (u.notes.empty() ? "" : u.notes[0]);
  EXPECT_NEAR(u.vcpu_stolen_seconds, 1.0, 1e-9);
  EXPECT_NEAR(u.vcpu_delivered_seconds, 4 * 1.0 - 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(u.end_unix_seconds - u.start_unix_seconds, 1);
}

TEST(usage_accountant_test, memory_and_gpus_are_integrated_and_holds_end_on_failure) {
  SnapshotEnv env = SnapshotEnv::Sequence(std::string(RESMETER_FIXTURES_DIR) + "/cpu_time/steal", {"t0"}, 10);
  UsageAccountant acc(&env, "/proc", 100);
  acc.Begin();
  env.SleepFor(5);  // nothing measured yet: not counted
  const double gib = 1024.0 * 1024 * 1024;
  acc.OnRuns({MakeRun("memory.capacity", MeterStatus::kOk, {{"mem_total_bytes", 4 * gib}}),
              MakeRun("gpu.devices", MeterStatus::kOk, {{"gpus", 2}})});
  env.SleepFor(10);
  acc.OnRuns({MakeRun("memory.capacity", MeterStatus::kFailed, nlohmann::json::object()),
              MakeRun("gpu.devices", MeterStatus::kOk, {{"gpu_count", 1}})});
  env.SleepFor(5);
  PeriodUsage u = acc.ClosePeriod();
  EXPECT_NEAR(u.memory_gib_seconds, 40, 1e-9);
  EXPECT_NEAR(u.memory_covered_seconds, 10, 1e-9);
  EXPECT_NEAR(u.gpu_seconds, 2 * 10 + 1 * 5, 1e-9);
  // The GPU reading carries into the next period; memory stays unmeasured.
  env.SleepFor(3);
  PeriodUsage next = acc.ClosePeriod();
  EXPECT_NEAR(next.gpu_seconds, 3, 1e-9);
  EXPECT_EQ(next.memory_gib_seconds, 0);
  EXPECT_DOUBLE_EQ(next.start_unix_seconds, u.end_unix_seconds);
}

TEST(usage_accountant_test, missing_proc_stat_is_a_note_not_a_number) {
  SnapshotEnv env({{0, "/nonexistent-root"}});
  UsageAccountant acc(&env, "/proc", 100);
  acc.Begin();
  env.SleepFor(1);
  PeriodUsage u = acc.ClosePeriod();
  EXPECT_FALSE(u.cpu_measured);
  EXPECT_EQ(u.vcpu_delivered_seconds, 0);
  ASSERT_FALSE(u.notes.empty());
}

}  // namespace
}  // namespace resmeter
