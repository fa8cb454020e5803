// cpu.effective under a real CFS bandwidth quota (root only): a quota of
// half the vCPUs (1 of 2 on the build VM) must read as half the vCPUs
// (0.9-1.1 there, +-10 % in general) however many vCPUs the platform lists.
// The child runs in a fresh cgroup with the highest CPU weight so that other
// tenants of the shared test machine cannot starve it below its quota.
// One run with the quota and one without: about 10 s.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "meters/cpu/cpu_effective_meter.h"
#include "meters/cpu/cpu_work.h"
#include "support/test_cgroup.h"

namespace resmeter {
namespace {

nlohmann::json RunEffectiveInCgroup(TestCgroup& cg) {
  return RunInChild(cg, [] {
    MeterContext ctx;
    ctx.env = DefaultEnv();
    for (const OptionSpec& o : CpuEffectiveOptions()) ctx.options.Set(o.key, o.default_value);
    return MeterResultToJson(CpuEffectiveMeter().Measure(ctx));
  });
}

TEST(cpu_effective_quota_test, quota_of_half_the_vcpus_reads_half_the_vcpus) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create a cgroup with a CPU quota";
  Result<std::vector<int>> cpus = AllowedCpus();
  ASSERT_TRUE(cpus.ok());
  const long vcpus = static_cast<long>(cpus->size());
  if (vcpus < 2) GTEST_SKIP() << "needs at least 2 vCPUs";
  TestCgroup cg;
  std::string why = cg.Create("cpu");
  if (!why.empty()) GTEST_SKIP() << why;
  ASSERT_TRUE(cg.SetMaxCpuWeight());
  ASSERT_TRUE(cg.SetCpuQuota(100000 * vcpus / 2));
  nlohmann::json limited = RunEffectiveInCgroup(cg);
  ASSERT_FALSE(limited.contains("error")) << limited.dump();
  ASSERT_EQ(limited["status"], "ok") << limited.dump();
  const double half = static_cast<double>(vcpus) / 2;
  const double e = limited["claims"]["effective_vcpus"].get<double>();
  std::printf("%ld vCPUs, quota %.1f cpus: effective_vcpus %.3f (rounds %s)\n", vcpus, half, e,
              limited["claims"]["rounds"].dump().c_str());
  EXPECT_GE(e, 0.9 * half) << limited.dump(1);
  EXPECT_LE(e, 1.1 * half) << limited.dump(1);
  ASSERT_FALSE(limited["findings"].empty());
  EXPECT_EQ(limited["findings"][0]["code"], "effective_vcpus_low");

  ASSERT_TRUE(cg.SetCpuQuota(-1));
  nlohmann::json free_run = RunEffectiveInCgroup(cg);
  ASSERT_EQ(free_run["status"], "ok") << free_run.dump();
  const double f = free_run["claims"]["effective_vcpus"].get<double>();
  std::printf("without quota: effective_vcpus %.3f (rounds %s)\n", f,
              free_run["claims"]["rounds"].dump().c_str());
  // Without the quota it must read clearly more than with it (how much more
  // depends on whether the host's cores behind the vCPUs are shared).
  EXPECT_GT(f, e + 0.25 * half) << free_run.dump(1);
}

}  // namespace
}  // namespace resmeter
