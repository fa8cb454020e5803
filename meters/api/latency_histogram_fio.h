// A LatencyHistogram's counts in fio's json+ bin layout
// (core/fio_latency_bins.h). Exact: above 256 ns every LatencyHistogram
// bucket (1/128 of its power of two) lies inside one fio bucket (1/64), and
// below it both count single nanoseconds, so no count changes bucket by
// rounding. Pure function; thread-compatible like the histogram.
#pragma once

#include "core/fio_latency_bins.h"
#include "meters/api/latency_histogram.h"

namespace resmeter {

inline FioBins FioBinsOf(const LatencyHistogram& h) {
  FioBins bins;
  for (int i = 0; i < LatencyHistogram::BucketCount(); ++i) {
    if (const uint64_t n = h.CountAt(i); n > 0)
      bins[FioBinValue(FioBinIndex(LatencyHistogram::BucketLower(i)))] += n;
  }
  return bins;
}

}  // namespace resmeter
