// The latency-mode detector on synthetic histograms: a cache in front of a
// disk (two separate modes, any mix from 10 % to 90 % cached) is split at the
// valley; one mode with a long tail, a flat spread, close modes, a tiny
// cached share and too few I/Os are not called bimodal.
#include "meters/disk/disk_latency_modes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "meters/disk/disk_io.h"

namespace resmeter {
namespace {

// Log-normal latencies around `median_ns` (sigma in natural-log units), from
// a fixed-seed generator (mt19937_64 is fully specified, so runs are equal).
class Synth {
 public:
  explicit Synth(uint64_t seed) : rng_(seed) {}
  double Normal() {
    const double u1 = (static_cast<double>(rng_() >> 11) + 0.5) / 9007199254740992.0;
    const double u2 = (static_cast<double>(rng_() >> 11) + 0.5) / 9007199254740992.0;
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }
  void LogNormal(LatencyHistogram* h, int n, double median_ns, double sigma) {
    for (int i = 0; i < n; ++i) h->Record(static_cast<uint64_t>(median_ns * std::exp(sigma * Normal())));
  }
  double Uniform() { return (static_cast<double>(rng_() >> 11) + 0.5) / 9007199254740992.0; }

 private:
  std::mt19937_64 rng_;
};

// Page-cache hits near 30 us and throttled device reads near 5 ms.
LatencyHistogram CacheInFrontOfDisk(double cached_fraction, int n = 4000) {
  Synth s(42);
  LatencyHistogram h;
  const int cached = static_cast<int>(cached_fraction * n);
  s.LogNormal(&h, cached, 30e3, 0.25);
  s.LogNormal(&h, n - cached, 5e6, 0.15);
  return h;
}

TEST(disk_latency_modes_test, cache_and_device_are_split_at_the_valley) {
  for (double cached : {0.1, 0.3, 0.5, 0.7, 0.9}) {
    SCOPED_TRACE(cached);
    const LatencyHistogram h = CacheInFrontOfDisk(cached);
    const LatencyModes m = FindLatencyModes(h);
    ASSERT_TRUE(m.bimodal) << m.explanation;
    EXPECT_EQ(m.total, 4000u);
    EXPECT_EQ(m.fast_count + m.slow_count, 4000u);
    EXPECT_NEAR(m.FastFraction(), cached, 0.002);
    EXPECT_GT(m.split_ns, 100e3);  // between the modes' bulk (30 us x e^(3 sigma) ~ 64 us) ...
    EXPECT_LT(m.split_ns, 3e6);    // ... and 5 ms x e^(-3 sigma) ~ 3.2 ms
    EXPECT_NEAR(m.fast_median_ns / 30e3, 1.0, 0.05);
    EXPECT_NEAR(m.slow_median_ns / 5e6, 1.0, 0.05);
    EXPECT_LE(m.valley_ratio, 0.01);
    EXPECT_NE(m.explanation.find("two modes"), std::string::npos);
  }
}

TEST(disk_latency_modes_test, a_long_tail_is_one_mode) {
  Synth s(7);
  LatencyHistogram lognormal;  // a wide log-normal: p99 ~ 10x the median
  s.LogNormal(&lognormal, 20000, 200e3, 1.0);
  LatencyModes m = FindLatencyModes(lognormal);
  EXPECT_FALSE(m.bimodal) << m.explanation;
  EXPECT_EQ(m.slow_count, 20000u);  // every I/O counts as the device's
  EXPECT_EQ(m.fast_count, 0u);
  EXPECT_EQ(m.FastFraction(), 0.0);

  LatencyHistogram exp_tail;  // 100 us of service plus exponential queueing (mean 300 us)
  for (int i = 0; i < 20000; ++i)
    exp_tail.Record(static_cast<uint64_t>(100e3 - 300e3 * std::log(s.Uniform())));
  m = FindLatencyModes(exp_tail);
  EXPECT_FALSE(m.bimodal) << m.explanation;
}

TEST(disk_latency_modes_test, a_flat_spread_is_one_mode) {
  Synth s(9);
  LatencyHistogram h;  // uniform in log latency from 10 us to 10 ms
  for (int i = 0; i < 20000; ++i) h.Record(static_cast<uint64_t>(1e4 * std::pow(1000.0, s.Uniform())));
  const LatencyModes m = FindLatencyModes(h);
  EXPECT_FALSE(m.bimodal) << m.explanation;
  EXPECT_NE(m.explanation.find("no valley"), std::string::npos) << m.explanation;
}

TEST(disk_latency_modes_test, close_modes_and_tiny_shares_are_not_a_cache) {
  Synth s(11);
  LatencyHistogram close;  // two sharp modes only 2x apart
  s.LogNormal(&close, 2000, 100e3, 0.05);
  s.LogNormal(&close, 2000, 200e3, 0.05);
  LatencyModes m = FindLatencyModes(close);
  EXPECT_FALSE(m.bimodal) << m.explanation;
  EXPECT_NE(m.explanation.find("medians"), std::string::npos) << m.explanation;

  const LatencyHistogram tiny = CacheInFrontOfDisk(0.02);  // 2 % cached: inflates the rate < 2 %
  m = FindLatencyModes(tiny);
  EXPECT_FALSE(m.bimodal) << m.explanation;
  EXPECT_NE(m.explanation.find("fewer than"), std::string::npos) << m.explanation;
}

TEST(disk_latency_modes_test, empty_and_tiny_inputs_are_one_mode) {
  LatencyHistogram empty;
  LatencyModes m = FindLatencyModes(empty);
  EXPECT_FALSE(m.bimodal);
  EXPECT_EQ(m.total, 0u);
  EXPECT_EQ(m.FastFraction(), 0.0);

  LatencyHistogram few;
  for (int i = 0; i < 4; ++i) few.Record(30000);
  for (int i = 0; i < 4; ++i) few.Record(5000000);
  m = FindLatencyModes(few);
  EXPECT_FALSE(m.bimodal);
  EXPECT_NE(m.explanation.find("too few"), std::string::npos);

  LatencyHistogram same;
  for (int i = 0; i < 100; ++i) same.Record(123456);
  m = FindLatencyModes(same);
  EXPECT_FALSE(m.bimodal) << m.explanation;
  EXPECT_EQ(m.slow_count, 100u);
}

TEST(disk_latency_modes_test, bins_in_any_order_give_the_same_split) {
  std::vector<LatencyBin> bins = LatencyBinsOf(CacheInFrontOfDisk(0.4));
  const LatencyModes a = FindLatencyModes(bins);
  std::reverse(bins.begin(), bins.end());
  bins.push_back({1000, 2000, 0});  // an empty bin changes nothing
  const LatencyModes b = FindLatencyModes(bins);
  ASSERT_TRUE(a.bimodal);
  EXPECT_EQ(a.fast_count, b.fast_count);
  EXPECT_EQ(a.split_ns, b.split_ns);
  // A hand-made two-bin input: 30 cache hits and 70 device reads.
  const LatencyModes c =
      FindLatencyModes(std::vector<LatencyBin>{{5000000, 5100000, 70}, {20000, 21000, 30}});
  ASSERT_TRUE(c.bimodal) << c.explanation;
  EXPECT_EQ(c.fast_count, 30u);
  EXPECT_EQ(c.slow_count, 70u);
}

TEST(disk_latency_modes_test, large_working_set_claims_report_the_modes) {
  DiskWorkload w;
  w.name = "rand_read_large_qd1";
  w.block_size_bytes = 4096;
  w.span_bytes = 1ull << 30;
  w.large_working_set = true;
  IoJobStats stats;
  stats.latency_ns = CacheInFrontOfDisk(0.3);
  stats.ios = stats.latency_ns.count();
  stats.bytes = stats.ios * 4096;
  stats.window_seconds = 2;
  nlohmann::json claims = nlohmann::json::object();
  const LatencyModes m = AddLargeWorkingSetClaims(w, stats, &claims);
  ASSERT_TRUE(m.bimodal);
  EXPECT_EQ(claims["rand_read_large_qd1_working_set_bytes"], 1ull << 30);
  EXPECT_EQ(claims["rand_read_large_qd1_latency_bimodal"], true);
  EXPECT_NEAR(claims["rand_read_large_qd1_fast_mode_fraction"].get<double>(), 0.3, 0.002);
  EXPECT_NEAR(claims["rand_read_large_qd1_fast_mode_latency_p50_seconds"].get<double>(), 30e-6, 2e-6);
  EXPECT_NEAR(claims["rand_read_large_qd1_slow_mode_latency_p50_seconds"].get<double>(), 5e-3, 3e-4);
  EXPECT_GT(claims["rand_read_large_qd1_mode_split_seconds"].get<double>(), 100e-6);

  IoJobStats one_mode;  // one mode: no per-mode keys, fraction 0
  one_mode.latency_ns.Record(100000);
  one_mode.window_seconds = 1;
  claims = nlohmann::json::object();
  EXPECT_FALSE(AddLargeWorkingSetClaims(w, one_mode, &claims).bimodal);
  EXPECT_EQ(claims["rand_read_large_qd1_latency_bimodal"], false);
  EXPECT_EQ(claims["rand_read_large_qd1_fast_mode_fraction"], 0.0);
  EXPECT_FALSE(claims.contains("rand_read_large_qd1_mode_split_seconds"));
}

}  // namespace
}  // namespace resmeter
