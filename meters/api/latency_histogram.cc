#include "meters/api/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace resmeter {
namespace {

constexpr uint64_t kExact = uint64_t{1} << LatencyHistogram::kSubBits;    // exact below this
constexpr uint64_t kHalf = kExact / 2;                                    // buckets per octave
constexpr uint64_t kTop = uint64_t{1} << LatencyHistogram::kMaxExponent;  // saturation point

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(static_cast<size_t>(BucketCount()), 0) {}

int LatencyHistogram::BucketCount() {
  // kExact exact buckets, then kHalf per octave for exponents kSubBits..kMaxExponent-1.
  return static_cast<int>(kExact + kHalf * (kMaxExponent - kSubBits));
}

int LatencyHistogram::BucketOf(uint64_t ns) {
  if (ns < kExact) return static_cast<int>(ns);
  if (ns >= kTop) return BucketCount() - 1;
  const int exponent = std::bit_width(ns) - 1;  // 2^exponent <= ns
  const int shift = exponent - (kSubBits - 1);  // bucket width 2^shift
  const uint64_t sub = (ns >> shift) - kHalf;   // 0 .. kHalf-1
  return static_cast<int>(kExact + kHalf * static_cast<uint64_t>(exponent - kSubBits) + sub);
}

uint64_t LatencyHistogram::BucketLower(int index) {
  const uint64_t i = static_cast<uint64_t>(index);
  if (i < kExact) return i;
  const uint64_t octave = (i - kExact) / kHalf;  // exponent - kSubBits
  const uint64_t sub = (i - kExact) % kHalf;
  const int shift = static_cast<int>(octave) + 1;
  return (kHalf + sub) << shift;
}

uint64_t LatencyHistogram::BucketUpper(int index) {
  const uint64_t i = static_cast<uint64_t>(index);
  if (i < kExact) return i + 1;
  const uint64_t octave = (i - kExact) / kHalf;
  return BucketLower(index) + (uint64_t{1} << (octave + 1));
}

void LatencyHistogram::Record(uint64_t ns) {
  if (ns >= kTop) ++saturated_;
  ++buckets_[static_cast<size_t>(BucketOf(ns))];
  ++count_;
  sum_ += ns;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  saturated_ += other.saturated_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::Clear() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = saturated_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the smallest value with at least ceil(q * n) values <= it.
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const int idx = static_cast<int>(i);
      double lo = static_cast<double>(BucketLower(idx));
      double hi = static_cast<double>(BucketUpper(idx));
      double mid = static_cast<uint64_t>(i) < kExact ? lo : (lo + hi) / 2;
      return std::clamp(mid, static_cast<double>(min_), static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

}  // namespace resmeter
