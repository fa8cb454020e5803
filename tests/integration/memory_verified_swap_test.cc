// memory.verified against memory that is really swapped (root only): a
// child limited by a memory cgroup to 192 MiB of RAM, with a 320 MiB swap
// file switched on for the test (smaller than the challenge), verifies a
// 384 MiB challenge. More than a third of it cannot be in RAM at any time,
// so the meter must report the swapped fraction (about half: measured
// 0.50) with a memory_swapped finding, verify every word (swap keeps the
// data), and count less than the challenge as verified. Units still resident
// read back slowly too while the cgroup reclaims at its limit (0.3-0.9 GB/s
// against a 3-5 GB/s reference), so few of them count as verified. Without the limit the same
// challenge verifies in full. About 10 s.
#include <gtest/gtest.h>
#include <sys/swap.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "meters/memory/memory_verified_meter.h"
#include "support/shell_command.h"
#include "support/test_cgroup.h"

namespace resmeter {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

// A swap file switched on for the test's lifetime.
class TestSwapFile {
 public:
  std::string Create(uint64_t bytes) {
    path_ = "/var/tmp/resmeter_swap_test_" + std::to_string(getpid());
    std::string out;
    const std::string cmd = "fallocate -l " + std::to_string(bytes) + " " + path_ + " && chmod 600 " + path_ +
                            " && mkswap " + path_ + " 2>&1";
    if (RunShellCommand(cmd, &out) != 0) return "cannot make a swap file: " + out;
    made_ = true;
    if (swapon(path_.c_str(), 0) != 0) return std::string("swapon refused: ") + std::strerror(errno);
    on_ = true;
    return "";
  }
  ~TestSwapFile() {
    if (on_) swapoff(path_.c_str());
    if (made_) unlink(path_.c_str());
  }

 private:
  std::string path_;
  bool made_ = false, on_ = false;
};

nlohmann::json RunVerifiedInCgroup(TestCgroup& cg) {
  return RunInChild(cg, [] {
    MeterContext ctx;
    ctx.env = DefaultEnv();
    for (const OptionSpec& o : MemoryVerifiedOptions()) ctx.options.Set(o.key, o.default_value);
    ctx.options.Set("share_of_available", 0.95);
    ctx.options.Set("max_bytes", 384 * kMiB);
    ctx.options.Set("unit_bytes", 32 * kMiB);
    return MeterResultToJson(MemoryVerifiedMeter().Measure(ctx));
  });
}

void Print(const char* what, const nlohmann::json& r) {
  const auto& c = r["claims"];
  std::printf(
      "%s: challenge %.0f MiB verified %.0f MiB slow_ratio %.3f swapped_ratio %.3f reference %.2f "
      "GB/s\n",
      what, c["challenge_bytes"].get<double>() / kMiB, c["verified_bytes"].get<double>() / kMiB,
      c["slow_ratio"].get<double>(), c["swapped_ratio"].get<double>(),
      c["reference_verify_bytes_per_second"].get<double>() / 1e9);
}

TEST(memory_verified_swap_test, memory_limited_below_the_challenge_reports_the_swapped_ratio) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for a memory cgroup and swapon";
  TestCgroup cg;
  std::string why = cg.Create("memory");
  if (!why.empty()) GTEST_SKIP() << why;
  TestSwapFile swap;
  why = swap.Create(320 * kMiB);
  if (!why.empty()) GTEST_SKIP() << why;
  if (!cg.v2()) WriteCgroupFile(cg.dir() + "/memory.swappiness", "100");

  nlohmann::json free_run = RunVerifiedInCgroup(cg);
  ASSERT_EQ(free_run.value("status", ""), "ok") << free_run.dump();
  Print("no limit", free_run);
  EXPECT_EQ(free_run["claims"]["verified_bytes"], 384 * kMiB) << free_run.dump(1);
  EXPECT_TRUE(free_run["findings"].empty()) << free_run.dump(1);

  ASSERT_TRUE(cg.SetMemoryLimit(192 * kMiB));
  nlohmann::json limited = RunVerifiedInCgroup(cg);
  ASSERT_EQ(limited.value("status", ""), "ok") << limited.dump();
  Print("192 MiB limit", limited);
  const auto& c = limited["claims"];
  EXPECT_EQ(c["mismatched_words"], 0);
  EXPECT_LT(c["verified_bytes"].get<double>(), 0.7 * 384 * kMiB) << c.dump(1);
  // About half the challenge was out of RAM when read back (newest first).
  EXPECT_GT(c["swapped_ratio"].get<double>(), 0.3) << c.dump(1);
  ASSERT_FALSE(limited["findings"].empty()) << limited.dump(1);
  EXPECT_EQ(limited["findings"][0]["code"], "memory_swapped");
  EXPECT_TRUE(limited["findings"][0]["details"].contains("swapped_ratio"));
}

}  // namespace
}  // namespace resmeter
