// The first meters on the live machine, through the framework, checked
// against what the C library says independently. Bounds are generous: other
// jobs share the CPUs, so only structure and consistency are asserted, not
// speed.
#include <gtest/gtest.h>
#include <unistd.h>

#include "meters/registry/registry.h"
#include "meters/registry/runner.h"

namespace resmeter {
namespace {

// Runs one registered meter with its default options (overrides applied).
MeterRun RunLive(const std::string& name, nlohmann::json overrides = nlohmann::json::object()) {
  const MeterInfo* info = FindMeter(name);
  EXPECT_NE(info, nullptr) << name;
  nlohmann::json values = nlohmann::json::object();
  for (const auto& o : info->options) values[o.key] = o.default_value;
  for (const auto& [k, v] : overrides.items()) values[k] = v;
  MeterRunner runner(DefaultEnv(), RunnerRoots{});
  return runner.Run(MeterPlan{info, info->default_timeout_seconds, Options(values)});
}

const int64_t kOnline = sysconf(_SC_NPROCESSORS_ONLN);

TEST(first_meters_live_test, cpu_topology_counts_the_online_cpus) {
  MeterRun run = RunLive("cpu.topology");
  ASSERT_EQ(run.result.status, MeterStatus::kOk) << run.result.reason;
  EXPECT_EQ(run.result.claims["threads"].get<int64_t>(), kOnline);
  EXPECT_EQ(run.result.claims["online_cpus"].get<int64_t>(), kOnline);
  EXPECT_EQ(run.result.conditions["hwloc_fsroot"], "/");
  EXPECT_GE(run.result.claims["caches"].size(), 1u);
  EXPECT_LT(run.result.duration_seconds, 5.0);  // light: tens of ms here; 5 s absorbs a loaded machine
}

TEST(first_meters_live_test, cpu_time_accounts_about_one_window_per_cpu) {
  MeterRun run = RunLive("cpu.time", {{"window_seconds", 0.5}});
  ASSERT_EQ(run.result.status, MeterStatus::kOk) << run.result.reason;
  const auto& c = run.result.claims;
  EXPECT_EQ(c["vcpus"].get<int64_t>(), kOnline);
  const double window = c["window_seconds"].get<double>();
  EXPECT_GE(window, 0.5);
  EXPECT_LT(window, 5.0);
  for (const auto& cpu : c["per_cpu"]) {
    if (!cpu["sampled"].get<bool>()) continue;
    double sum = 0;
    for (const auto& [k, v] : cpu.items()) {
      if (k.ends_with("_seconds")) {
        EXPECT_GE(v.get<double>(), 0.0) << k;
        sum += v.get<double>();
      }
    }
    // USER_HZ ticks: +-2 ticks of rounding plus 50% for accounting delays under load.
    EXPECT_GT(sum, window * 0.5 - 0.02) << cpu.dump();
    EXPECT_LT(sum, window * 1.5 + 0.02) << cpu.dump();
  }
  if (c.contains("steal_ratio")) {
    EXPECT_GE(c["steal_ratio"].get<double>(), 0.0);
    EXPECT_LE(c["steal_ratio"].get<double>(), 1.0);
  }
}

TEST(first_meters_live_test, memory_total_matches_sysconf) {
  MeterRun run = RunLive("memory.capacity");
  ASSERT_EQ(run.result.status, MeterStatus::kOk) << run.result.reason;
  const double sys_total =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  const double total = run.result.claims["mem_total_bytes"].get<double>();
  EXPECT_NEAR(total / sys_total, 1.0,
              0.05);  // both are the kernel's totalram; hot-plug may move it between reads
  EXPECT_LT(run.result.duration_seconds, 5.0);
}

}  // namespace
}  // namespace resmeter
