// Latency modes: decides whether a read-latency distribution has two
// separate modes (part of the reads served from a cache in front of the
// disk, part from the disk itself) and splits it there, so that a host cache
// in front of a slow disk cannot pass as a fast disk: the slow mode's rate is
// the device's rate.
//
// Method, on a log-latency scale (quarter-octave bins, counts smoothed with a
// [1 2 1] kernel):
//  1. the split is the threshold that best separates the two groups of bins
//     (Otsu: maximal between-class variance of log latency, weighted by count);
//  2. bimodal only when all hold:
//     - each side holds at least kMinModeFraction of the I/Os (and
//       kMinModeCount): a cache serving fewer reads barely inflates the rate;
//     - the slow side's median is at least kMinSeparationRatio times the fast
//       side's (a page-cache hit and a device read differ far more);
//     - there is a valley: the least dense bin between the two peaks holds at
//       most kMaxValleyRatio of the lower peak. A unimodal distribution with
//       a long tail falls steadily from its peak, so Otsu's split there has no
//       valley, however long the tail.
//
// Pure arithmetic on counts: no I/O, no clock. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "meters/api/latency_histogram.h"

namespace resmeter {

// One histogram bin: `count` values in [lower_ns, upper_ns).
struct LatencyBin {
  uint64_t lower_ns = 0;
  uint64_t upper_ns = 0;
  uint64_t count = 0;
};

struct LatencyModes {
  static constexpr double kMinModeFraction = 0.05;
  static constexpr uint64_t kMinModeCount = 5;
  static constexpr double kMinSeparationRatio = 3.0;
  static constexpr double kMaxValleyRatio = 0.5;

  bool bimodal = false;
  uint64_t total = 0;
  uint64_t fast_count = 0;  // I/Os below split_ns (all of them: 0 when not bimodal)
  uint64_t slow_count = 0;  // I/Os at or above split_ns (all of them when not bimodal)
  double split_ns = 0;      // boundary between the modes (0 when not bimodal)
  double fast_median_ns = 0;
  double slow_median_ns = 0;
  double separation_ratio = 0;  // slow_median_ns / fast_median_ns of the best split
  double valley_ratio = 0;      // valley density / lower peak density of the best split
  std::string explanation;      // one line: the split found, or why it is not bimodal

  double FastFraction() const { return total ? static_cast<double>(fast_count) / total : 0; }
};

// Analyses arbitrary bins (non-overlapping, any order; empty bins allowed).
LatencyModes FindLatencyModes(const std::vector<LatencyBin>& bins);
// Analyses a recorded histogram.
LatencyModes FindLatencyModes(const LatencyHistogram& histogram);
// The non-empty buckets of a histogram as bins.
std::vector<LatencyBin> LatencyBinsOf(const LatencyHistogram& histogram);

}  // namespace resmeter
