// memory.verified's pattern and judgement (pure), and one small real run.
#include <gtest/gtest.h>

#include "meters/memory/memory_verified_meter.h"
#include "meters/registry/registry.h"

namespace resmeter {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

TEST(memory_verified_test, pattern_depends_on_key_and_index_and_catches_a_flipped_bit) {
  std::vector<uint64_t> w(1024);
  FillPattern(w.data(), w.size(), 42, 100);
  EXPECT_EQ(CountPatternMismatches(w.data(), w.size(), 42, 100), 0u);
  EXPECT_EQ(CountPatternMismatches(w.data(), w.size(), 43, 100), w.size());      // another key
  EXPECT_GT(CountPatternMismatches(w.data(), w.size(), 42, 101), w.size() - 2);  // shifted
  w[7] ^= 1 << 3;
  EXPECT_EQ(CountPatternMismatches(w.data(), w.size(), 42, 100), 1u);
  EXPECT_NE(VerifyPatternWord(1, 0), VerifyPatternWord(1, 1));
}

TEST(memory_verified_test, slow_and_swapped_units_are_not_verified) {
  const double ref = 10e9;  // resident read-back, bytes/s
  std::vector<VerifiedUnit> units(4);
  for (auto& u : units) {
    u.bytes = 1024 * kMiB;
    u.verify_seconds = 0.12;  // 8.9 GB/s: RAM
  }
  units[1].verify_seconds = 2.0;   // 0.5 GB/s: faulted back from swap
  units[2].resident_ratio = 0.25;  // the guest swapped out three quarters
  units[2].verify_seconds = 1.5;
  units[3].mismatched_words = 3;
  VerifiedSummary s = SummarizeUnits(units, ref, 4);
  EXPECT_EQ(s.slow, (std::vector<bool>{false, true, true, false}));
  EXPECT_DOUBLE_EQ(s.slow_ratio, 0.5);
  EXPECT_DOUBLE_EQ(s.swapped_ratio, 0.75 / 4);
  EXPECT_EQ(s.mismatched_words, 3u);
  EXPECT_EQ(s.verified_bytes, 1024 * kMiB);  // only unit 0
}

TEST(memory_verified_test, small_real_challenge_verifies_everything_in_ram) {
  MeterContext ctx;
  ctx.env = DefaultEnv();
  const MeterInfo* info = FindMeter("memory.verified");
  ASSERT_NE(info, nullptr);
  EXPECT_FALSE(info->enabled_by_default);
  for (const OptionSpec& o : info->options) ctx.options.Set(o.key, o.default_value);
  ctx.options.Set("max_bytes", 64 * kMiB);
  ctx.options.Set("unit_bytes", 16 * kMiB);
  ctx.options.Set("slow_factor", 50.0);  // only a real fault storm is slow on a loaded test machine
  MeterResult r = MemoryVerifiedMeter().Measure(ctx);
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["challenge_bytes"], 64 * kMiB);
  EXPECT_EQ(r.claims["units"].size(), 4u);
  EXPECT_EQ(r.claims["mismatched_words"], 0);
  EXPECT_EQ(r.claims["verified_bytes"], 64 * kMiB) << r.claims.dump(1);
}

TEST(memory_verified_test, challenge_below_one_unit_is_unavailable) {
  MeterContext ctx;
  ctx.env = DefaultEnv();
  for (const OptionSpec& o : MemoryVerifiedOptions()) ctx.options.Set(o.key, o.default_value);
  ctx.options.Set("max_bytes", 8 * kMiB);
  ctx.options.Set("unit_bytes", 16 * kMiB);
  EXPECT_EQ(MemoryVerifiedMeter().Measure(ctx).status, MeterStatus::kUnavailable);
}

}  // namespace
}  // namespace resmeter
