// HeavySchedule: when the agent's heavy meters (benchmarks) run next.
//
// The gaps between scheduled heavy runs are drawn at random from an
// exponential distribution (Poisson-like arrivals) whose mean is the
// configured interval, bounded to [0.25, 4] x the interval; the draws come
// from the kernel's CSPRNG (getrandom), so a host that watched every earlier
// run still cannot predict the next one and boost its resources just for
// it. The schedule is never published (no metric, no API field, no log).
// The first heavy run after a start comes within 0.25 x the interval.
//
// Thread-compatible: one instance per scheduler thread; the default
// uniform source is thread-safe.
#pragma once

#include <functional>

namespace resmeter {

// A uniform draw in [0, 1) from getrandom(2) (53 random bits). Aborts the
// process when the kernel cannot supply randomness.
double CsprngUniform();

class HeavySchedule {
 public:
  // Returns a uniform draw in [0, 1); tests inject a seeded generator.
  using UniformSource = std::function<double()>;

  // The gap bounds, as multiples of the interval.
  static constexpr double kMinRatio = 0.25;
  static constexpr double kMaxRatio = 4.0;

  explicit HeavySchedule(UniformSource uniform = CsprngUniform) : uniform_(std::move(uniform)) {}

  // Seconds from one scheduled heavy run to the next (one fresh draw).
  // REQUIRES: interval_seconds > 0.
  double NextDelaySeconds(double interval_seconds) { return DelayForUniform(interval_seconds, uniform_()); }
  // Seconds from the agent's start to its first heavy run: uniform in
  // [1 s, kMinRatio x interval] (at least 1 s).
  double FirstDelaySeconds(double interval_seconds);

  // The gap for one uniform draw `u` in [0, 1): interval x clamp(s x E,
  // kMinRatio, kMaxRatio) with E = -ln(1 - u) a unit exponential and s the
  // scale that makes the clamped mean exactly 1 (ExponentialScale()).
  static double DelayForUniform(double interval_seconds, double u);
  // The scale s solving kMinRatio + s (e^(-kMinRatio/s) - e^(-kMaxRatio/s)) = 1,
  // the mean of clamp(s E, kMinRatio, kMaxRatio); about 0.988.
  static double ExponentialScale();

 private:
  UniformSource uniform_;
};

}  // namespace resmeter
