#include "meters/api/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace resmeter {
namespace {

// The exact nearest-rank percentile of sorted values.
double ExactPercentile(const std::vector<uint64_t>& sorted, double q) {
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]);
}

// Records values and checks every usual percentile against the exact one.
void CheckAgainstExact(std::vector<uint64_t> values) {
  LatencyHistogram h;
  for (uint64_t v : values) h.Record(v);
  std::sort(values.begin(), values.end());
  for (double q : {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
    double exact = ExactPercentile(values, q);
    double got = h.Percentile(q);
    EXPECT_LE(std::fabs(got - exact), exact * LatencyHistogram::kRelativeErrorBound + 1e-9)
        << "q=" << q << " exact=" << exact << " got=" << got;
  }
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.count(), values.size());
}

TEST(latency_histogram_test, buckets_tile_the_range_without_gaps) {
  for (int i = 0; i + 1 < LatencyHistogram::BucketCount(); ++i) {
    ASSERT_EQ(LatencyHistogram::BucketUpper(i), LatencyHistogram::BucketLower(i + 1)) << i;
    ASSERT_EQ(LatencyHistogram::BucketOf(LatencyHistogram::BucketLower(i)), i);
    ASSERT_EQ(LatencyHistogram::BucketOf(LatencyHistogram::BucketUpper(i) - 1), i);
    // Width bounded by the relative error: (upper - lower) / lower <= 2 * bound.
    if (LatencyHistogram::BucketLower(i) >= 256) {  // below: one integer per bucket, exact
      double rel = double(LatencyHistogram::BucketUpper(i) - LatencyHistogram::BucketLower(i)) /
                   double(LatencyHistogram::BucketLower(i));
      ASSERT_LE(rel, 2 * LatencyHistogram::kRelativeErrorBound + 1e-12) << i;
    }
  }
}

TEST(latency_histogram_test, lognormal_latencies_match_exact_percentiles) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(std::log(100e3), 1.0);  // ~100 us median
  std::vector<uint64_t> v;
  for (int i = 0; i < 200000; ++i) v.push_back(static_cast<uint64_t>(dist(rng)) + 1);
  CheckAgainstExact(v);
}

TEST(latency_histogram_test, uniform_and_bimodal_data_match_exact_percentiles) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<uint64_t> uni(1, 5'000'000'000ULL);
  std::vector<uint64_t> a;
  for (int i = 0; i < 50000; ++i) a.push_back(uni(rng));
  CheckAgainstExact(a);
  std::vector<uint64_t> b;
  for (int i = 0; i < 9900; ++i) b.push_back(20'000 + i % 500);  // fast path ~20 us
  for (int i = 0; i < 100; ++i) b.push_back(30'000'000 + i);     // 1 % stalls ~30 ms
  CheckAgainstExact(b);
}

TEST(latency_histogram_test, small_values_are_exact) {
  std::vector<uint64_t> v;
  for (uint64_t i = 0; i < 256; ++i) v.push_back(i);
  LatencyHistogram h;
  for (auto x : v) h.Record(x);
  EXPECT_EQ(h.Percentile(0.5), 127);
  EXPECT_EQ(h.Percentile(1.0), 255);
}

TEST(latency_histogram_test, does_not_saturate_below_an_hour) {
  LatencyHistogram h;
  const uint64_t minute = 60ULL * 1'000'000'000ULL;
  h.Record(minute);
  h.Record(60 * minute);
  EXPECT_EQ(h.saturated(), 0u);
  EXPECT_NEAR(h.Percentile(0.5), double(minute), double(minute) * LatencyHistogram::kRelativeErrorBound);
  EXPECT_EQ(h.max(), 60 * minute);
  h.Record(1ULL << 50);  // far beyond the range: counted, flagged, max exact
  EXPECT_EQ(h.saturated(), 1u);
  EXPECT_EQ(h.max(), 1ULL << 50);
}

TEST(latency_histogram_test, merge_equals_recording_everything_in_one) {
  LatencyHistogram a, b, all;
  for (uint64_t i = 1; i < 10000; i += 3) {
    a.Record(i * 37);
    all.Record(i * 37);
  }
  for (uint64_t i = 1; i < 10000; i += 7) {
    b.Record(i * 1001);
    all.Record(i * 1001);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.Mean(), all.Mean());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.Percentile(q), all.Percentile(q));
  a.Clear();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.Percentile(0.5), 0);
}

}  // namespace
}  // namespace resmeter
