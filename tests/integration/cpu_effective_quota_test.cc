// cpu.effective under a real CFS bandwidth quota (root only): a quota of
// half the vCPUs (1 of 2 on the build VM) must read half the vCPUs, within
// 10 %. On the build VM: 0.955-1.022 under the quota in eight runs, 1.84-1.99
// without it. (Until the one-vCPU reference became its work over its CPU
// time instead of its typical chunk rate, the quota read 0.87-0.99: the
// mean rate of the chain is 2-13 % below its typical chunk rate, and only the
// all-vCPU side paid for that.)
// The child runs in a fresh cgroup with the highest CPU weight so that other
// tenants of the shared test machine cannot starve it below its quota.
// One run without the quota and one with it: about 14 s (28 s with a retry).
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

  const double half = static_cast<double>(vcpus) / 2;
  // A neighbour's burst on the shared test machine can hit one run (a free
  // run once read 1.75, its rounds 0.99-2.0): a second attempt, both printed.
  double f = 0, e = 0, speed = 0;
  nlohmann::json limited;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    ASSERT_TRUE(cg.SetCpuQuota(-1));
    nlohmann::json free_run = RunEffectiveInCgroup(cg);
    ASSERT_FALSE(free_run.contains("error")) << free_run.dump();
    ASSERT_EQ(free_run["status"], "ok") << free_run.dump();
    f = free_run["claims"]["effective_vcpus"].get<double>();
    std::printf("attempt %d without quota: effective_vcpus %.3f (rounds %s)\n", attempt, f,
                free_run["claims"]["rounds"].dump().c_str());

    ASSERT_TRUE(cg.SetCpuQuota(100000 * vcpus / 2));
    limited = RunEffectiveInCgroup(cg);
    ASSERT_FALSE(limited.contains("error")) << limited.dump();
    ASSERT_EQ(limited["status"], "ok") << limited.dump();
    e = limited["claims"]["effective_vcpus"].get<double>();
    speed = limited["claims"]["concurrent_speed_ratio"].get<double>();
    ASSERT_GT(speed, 0) << limited.dump();
    std::printf(
        "attempt %d, %ld vCPUs, quota %.1f cpus: effective_vcpus %.3f = %.3f of the free run, concurrent "
        "speed "
        "%.3f (rounds %s)\n",
        attempt, vcpus, half, e, e / f, speed, limited["claims"]["rounds"].dump().c_str());
    if (e >= 0.9 * half && e <= 1.1 * half) break;
  }
  EXPECT_GE(e, 0.9 * half) << limited.dump(1);
  EXPECT_LE(e, 1.1 * half) << limited.dump(1);
  // A quota takes time, not speed: while they run, the vCPUs run about as
  // fast as one alone (0.99-1.02 here; hyper-thread pairs share the ALUs).
  EXPECT_GT(speed, 0.75) << limited.dump(1);
  ASSERT_FALSE(limited["findings"].empty());
  EXPECT_EQ(limited["findings"][0]["code"], "effective_vcpus_low");
}

}  // namespace
}  // namespace resmeter
