#include "meters/cpu/cpu_time.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "meters/registry/registry.h"
#include "meters/registry/runner.h"
#include "test_env.h"

namespace resmeter {
namespace {

const std::string kCases = std::string(RESMETER_FIXTURES_DIR) + "/cpu_time";

// Reads and parses one fixture reading.
ProcStat Load(const std::string& rel) {
  Result<std::string> text = DefaultEnv()->ReadFile(kCases + "/" + rel + "/proc/stat");
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  Result<ProcStat> stat = ParseProcStat(*text);
  EXPECT_TRUE(stat.ok()) << stat.status().ToString();
  return *stat;
}

// Runs the meter on a two-reading case with a 1 s window on the fake clock.
MeterResult RunCase(const std::string& name, bool check_env = false) {
  SnapshotEnv env = SnapshotEnv::Sequence(kCases + "/" + name, {"t0", "t1"}, 1.0);
  MeterContext ctx;
  ctx.env = &env;
  ctx.options.Set("window_seconds", 1.0);
  CpuTimeMeter meter;
  MeterResult r = meter.Measure(ctx);
  if (check_env) {
    EXPECT_EQ(env.reads(), 2);
    EXPECT_NEAR(env.now(), 1.0, 1e-9);
  }
  return r;
}

const Finding* FindingByCode(const MeterResult& r, const std::string& code) {
  for (const auto& f : r.findings) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

TEST(cpu_time_test, parses_aggregate_and_per_cpu_lines) {
  ProcStat s = Load("steal/t0");
  ASSERT_TRUE(s.aggregate.has_value());
  EXPECT_EQ(s.cpus.size(), 4u);
  EXPECT_EQ(s.cpus.at(1).ticks[0], 7000u);  // user
  EXPECT_EQ(s.cpus.at(1).ticks[7], 5000u);  // steal
  EXPECT_EQ(s.cpus.at(1).fields, 8);
  EXPECT_EQ(s.aggregate->ticks[7], 22000u);  // 4000+5000+6000+7000
}

TEST(cpu_time_test, rejects_malformed_lines) {
  EXPECT_FALSE(ParseProcStat("cpu0 1 2 x 4\n").ok());
  EXPECT_FALSE(ParseProcStat("cpu0 1 2 3\n").ok());                  // fewer than 4 counters
  EXPECT_FALSE(ParseProcStat("cpu0 1 2 3 4\ncpu0 1 2 3 4\n").ok());  // duplicate
  EXPECT_FALSE(ParseProcStat("cpuX 1 2 3 4\n").ok());
  EXPECT_TRUE(ParseProcStat("intr 1 2\nctxt 5\n").ok());  // no cpu lines: empty, not an error
}

TEST(cpu_time_test, steal_case_gives_exact_seconds_ratio_and_delivered) {
  Result<CpuTimeWindow> w = ComputeCpuTimeWindow(Load("steal/t0"), Load("steal/t1"), 1.0, 100);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->vcpus, 4);
  EXPECT_EQ(w->vcpus_sampled, 4);
  EXPECT_TRUE(w->steal_reported);
  EXPECT_NEAR(w->total_seconds[0], 2.0, 1e-12);   // user 40+70+0+90 ticks
  EXPECT_DOUBLE_EQ(w->total_seconds[1], 0.05);    // nice
  EXPECT_NEAR(w->total_seconds[2], 0.13, 1e-12);  // system 8+5
  EXPECT_NEAR(w->total_seconds[3], 0.8, 1e-12);   // idle 30+50
  EXPECT_NEAR(w->total_seconds[kStealIndex], 1.0, 1e-12);
  EXPECT_NEAR(w->delivered_vcpu_seconds, 3.0, 1e-12);
  ASSERT_TRUE(w->steal_ratio.has_value());
  EXPECT_DOUBLE_EQ(*w->steal_ratio, 0.25);
  EXPECT_DOUBLE_EQ(w->per_cpu[2].seconds[kStealIndex], 0.5);
  EXPECT_TRUE(w->findings.empty());
}

TEST(cpu_time_test, meter_reads_twice_through_env_and_reports_claims) {
  MeterResult r = RunCase("steal", /*check_env=*/true);
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_DOUBLE_EQ(r.claims["window_seconds"].get<double>(), 1.0);
  EXPECT_NEAR(r.claims["steal_seconds"].get<double>(), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(r.claims["steal_ratio"].get<double>(), 0.25);
  EXPECT_NEAR(r.claims["delivered_vcpu_seconds"].get<double>(), 3.0, 1e-12);
  EXPECT_NEAR(r.claims["busy_seconds"].get<double>(), 2.2, 1e-12);
  EXPECT_EQ(r.claims["per_cpu"].size(), 4u);
  EXPECT_DOUBLE_EQ(r.claims["per_cpu"][3]["user_seconds"].get<double>(), 0.9);
  EXPECT_EQ(r.conditions["user_hz"].get<double>(), static_cast<double>(sysconf(_SC_CLK_TCK)));
}

TEST(cpu_time_test, backwards_wrap_reset_and_hotplug_are_findings_not_negative_seconds) {
  Result<CpuTimeWindow> w = ComputeCpuTimeWindow(Load("backwards/t0"), Load("backwards/t1"), 1.0, 100);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->vcpus, 4);
  EXPECT_EQ(w->vcpus_sampled, 3);  // cpu2 reset: discarded
  ASSERT_EQ(w->per_cpu.size(), 4u);
  EXPECT_TRUE(w->per_cpu[1].sampled);
  EXPECT_DOUBLE_EQ(w->per_cpu[1].seconds[4], 0.0);  // iowait stepped back 3 ticks: clamped
  EXPECT_FALSE(w->per_cpu[2].sampled);
  EXPECT_DOUBLE_EQ(w->per_cpu[3].seconds[0], 0.3);  // user wrapped 4294967290 -> 24
  for (const auto& c : w->per_cpu) {
    for (double s : c.seconds) EXPECT_GE(s, 0.0);
  }
  EXPECT_NEAR(w->total_seconds[0], 1.4, 1e-12);
  EXPECT_DOUBLE_EQ(w->total_seconds[kStealIndex], 0.05);
  EXPECT_NEAR(w->delivered_vcpu_seconds, 2.95, 1e-12);

  MeterResult r = CpuTimeResult(*w);
  const Finding* back = FindingByCode(r, "counter_went_backwards");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->details["counters"][0]["cpu"], 1);
  EXPECT_EQ(back->details["counters"][0]["state"], "iowait");
  const Finding* wrap = FindingByCode(r, "counter_wrapped");
  ASSERT_NE(wrap, nullptr);
  EXPECT_EQ(wrap->details["counters"][0]["cpu"], 3);
  const Finding* reset = FindingByCode(r, "counter_reset");
  ASSERT_NE(reset, nullptr);
  EXPECT_EQ(reset->details["counters"][0]["cpu"], 2);
  const Finding* hotplug = FindingByCode(r, "cpu_set_changed");
  ASSERT_NE(hotplug, nullptr);
  EXPECT_EQ(hotplug->details["cpus"], nlohmann::json::array({4}));
  EXPECT_FALSE(r.claims["per_cpu"][2]["sampled"].get<bool>());
  EXPECT_FALSE(r.claims["per_cpu"][2].contains("user_seconds"));
}

TEST(cpu_time_test, real_vm_readings_account_about_one_window_per_cpu) {
  MeterResult r = RunCase("vm_2cpu");
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["vcpus"], 2);
  EXPECT_DOUBLE_EQ(r.claims["per_cpu"][0]["user_seconds"].get<double>(), 0.98);
  EXPECT_DOUBLE_EQ(r.claims["per_cpu"][1]["system_seconds"].get<double>(), 0.14);
  EXPECT_DOUBLE_EQ(r.claims["steal_seconds"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(r.claims["steal_ratio"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(r.claims["delivered_vcpu_seconds"].get<double>(), 2.0);
  EXPECT_TRUE(r.findings.empty());
}

TEST(cpu_time_test, kernel_without_steal_column_reports_no_steal_numbers) {
  MeterResult r = RunCase("no_steal");
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_FALSE(r.claims.contains("steal_seconds"));
  EXPECT_FALSE(r.claims.contains("steal_ratio"));
  EXPECT_FALSE(r.claims.contains("delivered_vcpu_seconds"));
  EXPECT_TRUE(r.conditions.contains("steal_unavailable"));
  EXPECT_DOUBLE_EQ(r.claims["user_seconds"].get<double>(), 0.5);
}

TEST(cpu_time_test, missing_proc_stat_is_unavailable) {
  SnapshotEnv env({{0.0, kCases + "/does_not_exist"}});
  MeterContext ctx;
  ctx.env = &env;
  MeterResult r = CpuTimeMeter().Measure(ctx);
  EXPECT_EQ(r.status, MeterStatus::kUnavailable);
  EXPECT_NE(r.reason.find("/proc/stat"), std::string::npos);
}

TEST(cpu_time_test, cancellation_stops_the_window) {
  SnapshotEnv env = SnapshotEnv::Sequence(kCases + "/steal", {"t0", "t1"}, 1.0);
  MeterContext ctx;
  ctx.env = &env;
  ctx.options.Set("window_seconds", 30.0);
  ctx.cancel_flag->store(true);
  MeterResult r = CpuTimeMeter().Measure(ctx);
  EXPECT_EQ(r.status, MeterStatus::kFailed);
  EXPECT_EQ(env.sleeps(), 0);
}

TEST(cpu_time_test, rejects_non_positive_window) {
  EXPECT_FALSE(ComputeCpuTimeWindow(Load("steal/t0"), Load("steal/t1"), 0.0, 100).ok());
}

TEST(cpu_time_test, registry_row_declares_window_option) {
  const MeterInfo* info = FindMeter("cpu.time");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->kind, MeterKind::kLight);
  ASSERT_EQ(info->options.size(), 1u);
  EXPECT_EQ(info->options[0].key, "window_seconds");
  EXPECT_DOUBLE_EQ(info->options[0].default_value.get<double>(), 1.0);
}

TEST(cpu_time_test, runs_under_the_framework_with_registry_defaults) {
  SnapshotEnv env = SnapshotEnv::Sequence(kCases + "/steal", {"t0", "t1"}, 1.0);
  MeterRunner runner(&env, RunnerRoots{});
  const MeterInfo* info = FindMeter("cpu.time");
  ASSERT_NE(info, nullptr);
  MeterPlan plan{info, info->default_timeout_seconds, Options(nlohmann::json{{"window_seconds", 1.0}})};
  MeterRun run = runner.Run(plan);
  ASSERT_EQ(run.result.status, MeterStatus::kOk) << run.result.reason;
  EXPECT_DOUBLE_EQ(run.result.duration_seconds, 1.0);  // the fake clock advanced by the window
  EXPECT_NEAR(run.result.claims["steal_ratio"].get<double>(), 0.25, 1e-12);
}

}  // namespace
}  // namespace resmeter
