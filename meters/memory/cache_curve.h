// Plateau detection on a cache latency curve (latency of a random pointer
// chase against buffer size): a pure function, unit-tested on fixture data.
//
// A plateau is a run of consecutive sizes whose latency stays flat; each
// cache level shows as one plateau and main memory as the last. A level's
// capacity is where the latency has risen by `knee_rise` over its plateau,
// interpolated in log size: set-associative caches with pseudo-LRU start to
// miss under a random chase before they are full, so the plateau's last size
// alone under-reads them (by 1.5 octaves for a Zen 4 L2 seen here). Noise is handled with a 3-point running
// median (which keeps steps sharp) and by merging neighbouring plateaus whose latencies differ by less than
// `min_level_ratio`.
//
// Threading: pure; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace resmeter {

struct CurvePoint {
  uint64_t size_bytes = 0;
  double latency_seconds = 0;
};

struct Plateau {
  uint64_t first_size_bytes = 0;
  uint64_t last_size_bytes = 0;  // the last size of the flat run
  uint64_t capacity_bytes = 0;   // the knee (see above); last_size_bytes when the curve ends first
  double latency_seconds = 0;    // median latency over the plateau
  size_t points = 0;
};

struct PlateauOptions {
  double step_tolerance = 0.15;  // neighbours within this relative rise are "flat"
  double drift_tolerance = 0.6;  // a plateau may rise this much overall from its lowest point
  double min_level_ratio = 1.3;  // adjacent plateaus closer than this are one level
  double knee_rise = 1.5;        // capacity: where latency reaches this multiple of the plateau's
  size_t min_points = 3;  // shorter runs are transitions, not levels (3 = 1.5 octaves at 2 steps/octave)
};

// Finds the plateaus of a curve sorted by ascending size, lowest level first.
std::vector<Plateau> DetectPlateaus(const std::vector<CurvePoint>& curve, const PlateauOptions& options = {});

}  // namespace resmeter
