// Parsers of the CPU and memory meters, on fixture trees under
// tests/fixtures/cpu_memory/ (never the live machine).
#include <gtest/gtest.h>

#include "meters/memory/cache_info.h"
#include "meters/cpu/cgroup_cpu.h"
#include "meters/cpu/cpu_availability_meter.h"
#include "meters/cpu/cpu_claims.h"
#include "meters/cpu/cpu_throttling_meter.h"
#include "meters/memory/mem_buffer.h"

namespace resmeter {
namespace {

MeterContext FixtureContext(const std::string& tree) {
  MeterContext ctx;
  ctx.env = DefaultEnv();
  ctx.proc_root = std::string(RESMETER_FIXTURES_DIR) + "/cpu_memory/" + tree + "/proc";
  ctx.sys_root = std::string(RESMETER_FIXTURES_DIR) + "/cpu_memory/" + tree + "/sys";
  return ctx;
}

TEST(cpu_memory_parsers_test, nominal_frequency_prefers_model_name_over_cpufreq_max_and_cpu_mhz) {
  MeterContext ctx = FixtureContext("intel");
  Result<NominalFrequency> f = ReadNominalFrequency(ctx);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_DOUBLE_EQ(f->hz, 2.5e9);
  EXPECT_EQ(f->source, "/proc/cpuinfo model name");
}

TEST(cpu_memory_parsers_test, cpuinfo_fields) {
  const std::string amd =
      "model name\t: AMD EPYC\ncpu MHz\t\t: 2445.402\nflags\t\t: fpu tsc constant_tsc nonstop_tsc\n";
  EXPECT_FALSE(ParseModelNameHz(amd).has_value());
  EXPECT_NEAR(*ParseCpuMhzHz(amd), 2445.402e6, 1);
  EXPECT_TRUE(HasInvariantTsc(amd));
  EXPECT_FALSE(HasInvariantTsc("flags : fpu tsc constant_tsc\n"));
  EXPECT_NEAR(*ParseModelNameHz("model name : Some CPU @ 800MHz\n"), 8e8, 1);
}

TEST(cpu_memory_parsers_test, no_nominal_frequency_is_not_found) {
  MeterContext ctx = FixtureContext("v1");  // no cpuinfo, no cpufreq
  EXPECT_EQ(ReadNominalFrequency(ctx).status().code(), Status::Code::kNotFound);
}

TEST(cpu_memory_parsers_test, thermal_throttle_counters_sum_over_cpus) {
  EXPECT_EQ(ReadThermalThrottleCount(FixtureContext("intel")), std::optional<uint64_t>(10));
  EXPECT_FALSE(ReadThermalThrottleCount(FixtureContext("v1")).has_value());
}

TEST(cpu_memory_parsers_test, cgroup_v1_takes_the_tightest_quota_and_sums_throttling) {
  Result<CgroupCpuLimit> l = ReadCgroupCpuLimit(FixtureContext("v1"));
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->version, "v1");
  EXPECT_EQ(l->path, "/jobs/batch");
  EXPECT_DOUBLE_EQ(l->quota_cpus, 0.5);
  EXPECT_EQ(l->nr_throttled, 32u);
  EXPECT_DOUBLE_EQ(l->throttled_seconds, 2.0);
}

TEST(cpu_memory_parsers_test, cgroup_v2_reads_cpu_max) {
  Result<CgroupCpuLimit> l = ReadCgroupCpuLimit(FixtureContext("v2"));
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->version, "v2");
  EXPECT_DOUBLE_EQ(l->quota_cpus, 1.0);
  EXPECT_EQ(l->nr_throttled, 4u);
  EXPECT_DOUBLE_EQ(l->throttled_seconds, 0.25);
  EXPECT_EQ(ParseCpuMax("max 100000"), std::optional<double>(0.0));
  EXPECT_EQ(ParseCpuMax("50000 100000\n"), std::optional<double>(0.5));
  EXPECT_FALSE(ParseCpuMax("garbage").has_value());
}

TEST(cpu_memory_parsers_test, cache_levels_from_sysfs) {
  Result<std::vector<CacheLevelInfo>> c = ReadCpuCaches(FixtureContext("intel"), 0);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 4u);
  std::vector<CacheLevelInfo> data = DataCacheLevels(*c);
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[0].size_bytes, 32u * 1024);
  EXPECT_EQ(data[0].type, "Data");
  EXPECT_EQ(data[1].size_bytes, 1024u * 1024);
  EXPECT_EQ(LastLevelCacheBytes(*c), 28160u * 1024);
  EXPECT_EQ(data[2].shared_cpu_list, "0-1");
  EXPECT_EQ(ParseCacheSize("1M"), std::optional<uint64_t>(1u << 20));
  EXPECT_FALSE(ParseCacheSize("12Q").has_value());
  EXPECT_EQ(ReadCpuCaches(FixtureContext("intel"), 7).status().code(), Status::Code::kNotFound);
}

TEST(cpu_memory_parsers_test, reported_caches_prefer_sysfs_and_name_their_source) {
  Result<ReportedCaches> r = ReportedDataCaches(FixtureContext("intel"), 0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->levels.size(), 3u);
  EXPECT_EQ(r->levels[2].size_bytes, 28160u * 1024);
  EXPECT_NE(r->source.find("cpu0/cache"), std::string::npos) << r->source;
  // No cache files and (for a fixture root) no CPUID: NotFound, naming both places looked at.
  Result<ReportedCaches> none = ReportedDataCaches(FixtureContext("v2"), 0);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound);
  EXPECT_NE(none.status().message().find("hwloc"), std::string::npos) << none.status().message();
}

TEST(cpu_memory_parsers_test, availability_figures_separate_quota_steal_hidden_loss_and_guest_contention) {
  const double R = 3e9, W = 2.0;
  // Guest cgroup quota of half: ran half, CPU time half, throttled the other half.
  AvailabilityFigures q = ComputeAvailability({R * W / 2, R, W, W / 2, 0, W / 2});
  EXPECT_NEAR(q.availability_ratio, 0.5, 1e-9);
  EXPECT_NEAR(q.cpu_time_ratio, 0.5, 1e-9);
  // Other guest tasks took 80%: not the host's doing.
  AvailabilityFigures g = ComputeAvailability({R * W * 0.2, R, W, W * 0.2, 0, 0});
  EXPECT_NEAR(g.availability_ratio, 1.0, 1e-9);
  EXPECT_NEAR(g.wall_availability_ratio, 0.2, 1e-9);
  EXPECT_NEAR(g.guest_contention_ratio, 0.8, 1e-9);
  // Host took half silently: guest thinks it ran all the time.
  AvailabilityFigures h = ComputeAvailability({R * W / 2, R, W, W, 0, 0});
  EXPECT_NEAR(h.availability_ratio, 0.5, 1e-9);
  EXPECT_NEAR(h.hidden_loss_ratio, 0.5, 1e-9);
  // Host took half and reported it as steal.
  AvailabilityFigures s = ComputeAvailability({R * W / 2, R, W, W / 2, W / 2, 0});
  EXPECT_NEAR(s.availability_ratio, 0.5, 1e-9);
  EXPECT_EQ(ComputeAvailability({}).availability_ratio, 0);
}

TEST(cpu_memory_parsers_test, steal_ticks_by_cpu) {
  const std::string stat =
      "cpu  10 0 5 100 0 0 0 9 0 0\ncpu0 5 0 2 50 0 0 0 4 0 0\ncpu1 5 0 3 50 0 0 0 5 0 0\nintr 1\n";
  std::map<int, uint64_t> s = StealTicksByCpu(stat);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], 4u);
  EXPECT_EQ(s[1], 5u);
}

TEST(cpu_memory_parsers_test, smaps_huge_pages_of_the_mapping_holding_an_address) {
  const std::string smaps =
      "7f0000000000-7f0000200000 rw-p 00000000 00:00 0 \nSize: 2048 kB\nAnonHugePages:         0 kB\n"
      "7f0000200000-7f0010200000 rw-p 00000000 00:00 0 \nSize: 262144 kB\nAnonHugePages:    262144 kB\n";
  EXPECT_EQ(ParseSmapsHugeBytes(smaps, 0x7f0000300000), 262144u * 1024);
  EXPECT_EQ(ParseSmapsHugeBytes(smaps, 0x7f0000000010), 0u);
  EXPECT_EQ(ParseSmapsHugeBytes(smaps, 0x1000), 0u);
}

TEST(cpu_memory_parsers_test, linear_slope) {
  EXPECT_DOUBLE_EQ(LinearSlope({0, 1, 2, 3}, {10, 8, 6, 4}), -2);
  EXPECT_DOUBLE_EQ(LinearSlope({1}, {5}), 0);
}

}  // namespace
}  // namespace resmeter
