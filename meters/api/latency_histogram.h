// LatencyHistogram: a log-linear histogram of durations in nanoseconds with a
// bounded relative error, for latency percentiles (p50, p99, p99.9, ...).
//
// Layout (HDR-histogram style): values below 2^kSubBits ns are counted
// exactly; above that, every power-of-two range [2^k, 2^(k+1)) is split into
// 2^(kSubBits-1) equal buckets. A bucket starting at L is at most
// L / 2^(kSubBits-1) wide, and a percentile is reported as the bucket's
// midpoint clamped to the exact [min, max], so the reported value is within
// a relative error of 1 / 2^kSubBits (= 1/256, about 0.39 %) of the exact
// nearest-rank percentile of the recorded values.
//
// Range: up to 2^kMaxExponent ns (about 73 minutes) without saturation; a
// larger value is counted in the top bucket (and counted in saturated()),
// while min, max and the sum stay exact. Memory is fixed (about 35 KiB).
//
// Thread-compatible: one writer at a time; merge per-thread histograms with
// Merge().
#pragma once

#include <cstdint>
#include <vector>

namespace resmeter {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 8;       // relative error bound 2^-kSubBits
  static constexpr int kMaxExponent = 42;  // 2^42 ns ~ 4398 s, far above 60 s
  // The documented bound on |reported - exact| / exact for any percentile.
  static constexpr double kRelativeErrorBound = 1.0 / (1 << kSubBits);

  LatencyHistogram();

  // Counts one duration in nanoseconds.
  void Record(uint64_t ns);
  // Adds every count of `other` to this histogram.
  void Merge(const LatencyHistogram& other);
  // Forgets every value.
  void Clear();

  uint64_t count() const { return count_; }
  uint64_t saturated() const { return saturated_; }
  // Exact smallest and largest values recorded (0 when empty).
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  // Exact arithmetic mean in nanoseconds (0 when empty).
  double Mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
  // The nearest-rank percentile for q in [0, 1] (q = 0.99 for p99), in ns,
  // within kRelativeErrorBound of the exact value; 0 when empty.
  double Percentile(double q) const;

  // Bucket index of a value, and the [lower, upper) bounds of a bucket (for tests).
  static int BucketOf(uint64_t ns);
  static uint64_t BucketLower(int index);
  static uint64_t BucketUpper(int index);
  static int BucketCount();
  // How many values fell into bucket `index` (0 <= index < BucketCount()).
  uint64_t BucketValueCount(int index) const {
    return buckets_[static_cast<std::vector<uint64_t>::size_type>(index)];
  }

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t saturated_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  unsigned __int128 sum_ = 0;
};

}  // namespace resmeter
