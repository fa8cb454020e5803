#include "agent/heavy_schedule.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace resmeter {
namespace {

// Mean of clamp(s E, lo, hi) for E a unit exponential.
double ClampedMean(double s, double lo, double hi) {
  return lo + s * (std::exp(-lo / s) - std::exp(-hi / s));
}

}  // namespace

double CsprngUniform() {
  uint64_t bits = 0;
  auto* out = reinterpret_cast<unsigned char*>(&bits);
  size_t got = 0;
  while (got < sizeof bits) {
    ssize_t r = ::getrandom(out + got, sizeof bits - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "resmeter: fatal: getrandom failed\n");
      std::abort();
    }
    got += static_cast<size_t>(r);
  }
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

double HeavySchedule::ExponentialScale() {
  // The clamped mean grows with s; bisect once and keep the result.
  static const double scale = [] {
    double lo = 0.5, hi = 1.5;
    for (int i = 0; i < 60; ++i) {
      const double mid = (lo + hi) / 2;
      (ClampedMean(mid, kMinRatio, kMaxRatio) < 1.0 ? lo : hi) = mid;
    }
    return (lo + hi) / 2;
  }();
  return scale;
}

double HeavySchedule::DelayForUniform(double interval_seconds, double u) {
  u = std::clamp(u, 0.0, std::nextafter(1.0, 0.0));
  const double e = -std::log1p(-u);  // unit exponential
  return interval_seconds * std::clamp(ExponentialScale() * e, kMinRatio, kMaxRatio);
}

double HeavySchedule::FirstDelaySeconds(double interval_seconds) {
  return std::max(1.0, interval_seconds * kMinRatio * uniform_());
}

}  // namespace resmeter
