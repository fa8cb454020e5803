// fio's json+ bin layout (core/fio_latency_bins.h) and the disk/RTT
// histograms converted to it (meters/api/latency_histogram_fio.h): bucket
// bounds, 64 buckets per power of two, key values within 1/128, and
// percentiles recomputed from the bins that reproduce the histogram's own
// p50/p99/p99.9 within the two stated error bounds. fio itself is compared
// in tests/integration/fio_bins_test.cc.
#include "core/fio_latency_bins.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "meters/api/latency_histogram_fio.h"
#include "peer/net_protocol.h"

namespace resmeter {
namespace {

TEST(FioLatencyBins, BoundsAndKeyValues) {
  EXPECT_EQ(kFioBinCount, 1856);
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 129ull, 255ull, 256ull, 1000ull, 123456ull, 999999999ull,
                     (1ull << 34) - 1}) {
    const int i = FioBinIndex(v);
    EXPECT_LE(FioBinLower(i), v) << v;
    EXPECT_LT(v, FioBinUpper(i)) << v;
    EXPECT_LE(std::fabs(static_cast<double>(FioBinValue(i)) - static_cast<double>(v)),
              kFioBinRelativeError * static_cast<double>(v) + 0.5)
        << v;
    EXPECT_EQ(FioBinIndex(FioBinValue(i)), i) << "a key value lies in its own bucket";
  }
  EXPECT_EQ(FioBinIndex(127), 127);
  EXPECT_EQ(FioBinValue(FioBinIndex(128)), 129u);  // [128, 130): 128 + half of 2
  EXPECT_EQ(FioBinIndex(1ull << 40), kFioBinCount - 1) << "beyond ~17 s: the last bucket";
  // Every power of two from 128 up is cut into 64 buckets, contiguous.
  for (int i = 128; i + 1 < kFioBinCount; ++i) ASSERT_EQ(FioBinUpper(i), FioBinLower(i + 1)) << i;
  EXPECT_EQ(FioBinIndex(1 << 20) - FioBinIndex(1 << 19), 64);
}

TEST(FioLatencyBins, JsonRoundTripAndHostileKeys) {
  const FioBins bins = {{129, 3}, {100352, 7}};
  const nlohmann::json j = FioBinsJson(bins);
  EXPECT_EQ(j["count"], 10);
  EXPECT_EQ(FioBinsFromJson(j["bins"]), bins);
  const nlohmann::json bad = {{"-5", 1},  {"1e3", 1},  {"x", 1},
                              {"12", -1}, {"13", "2"}, {"99999999999999999999", 1}};
  EXPECT_TRUE(FioBinsFromJson(bad).empty());
  EXPECT_TRUE(FioBinsFromJson(nlohmann::json::array()).empty());
}

// The disk meter's histogram, converted: the bins reproduce its own percentiles.
TEST(FioLatencyBins, BinsReproduceTheHistogramsPercentiles) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(std::log(200e3), 0.6);  // ~200 us, long tail
  LatencyHistogram h;
  uint64_t n = 0;
  for (int i = 0; i < 200000; ++i, ++n) h.Record(static_cast<uint64_t>(d(rng)));
  const FioBins bins = FioBinsOf(h);
  uint64_t total = 0;
  for (const auto& [v, c] : bins) {
    total += c;
    EXPECT_EQ(FioBinValue(FioBinIndex(v)), v);
  }
  EXPECT_EQ(total, n);
  const double bound = kFioBinRelativeError + LatencyHistogram::kRelativeErrorBound;
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double from_bins = static_cast<double>(FioBinsPercentile(bins, q));
    const double reported = h.Percentile(q);
    EXPECT_LE(std::fabs(from_bins - reported) / reported, bound) << "q=" << q;
  }
  EXPECT_LE(FioBinsJson(bins).dump().size(), 8000u) << "a long-tailed workload stays a few KiB";
}

TEST(FioLatencyBins, RttSamplesAreBinned) {
  const RttStats s = ComputeRttStats({50e-6, 51e-6, 52e-6, 400e-6});
  uint64_t total = 0;
  for (const auto& [v, c] : s.bins) total += c;
  EXPECT_EQ(total, 4u);
  EXPECT_NEAR(static_cast<double>(FioBinsPercentile(s.bins, 0.5)), 51e3, 51e3 * kFioBinRelativeError);
}

}  // namespace
}  // namespace resmeter
