#include "meters/cache_curve.h"

#include <algorithm>

namespace resmeter {
namespace {

// The 3-point running median of the latencies; the end points are kept.
std::vector<double> MedianSmooth(const std::vector<CurvePoint>& curve) {
  std::vector<double> out(curve.size());
  for (size_t i = 0; i < curve.size(); ++i) {
    if (i == 0 || i + 1 == curve.size()) {
      out[i] = curve[i].latency_seconds;
      continue;
    }
    double a = curve[i - 1].latency_seconds, b = curve[i].latency_seconds, c = curve[i + 1].latency_seconds;
    out[i] = std::max(std::min(a, b), std::min(std::max(a, b), c));
  }
  return out;
}

// Median of values[first..last] inclusive.
double MedianRange(const std::vector<double>& values, size_t first, size_t last) {
  std::vector<double> v(values.begin() + static_cast<std::ptrdiff_t>(first),
                        values.begin() + static_cast<std::ptrdiff_t>(last) + 1);
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

std::vector<Plateau> DetectPlateaus(const std::vector<CurvePoint>& curve, const PlateauOptions& options) {
  std::vector<Plateau> out;
  if (curve.empty()) return out;
  const std::vector<double> s = MedianSmooth(curve);

  // Split into runs joined by flat steps that do not drift too far.
  std::vector<std::pair<size_t, size_t>> runs;
  size_t first = 0;
  double low = s[0];
  for (size_t i = 1; i <= s.size(); ++i) {
    bool flat = i < s.size() && s[i] <= s[i - 1] * (1 + options.step_tolerance) &&
                s[i] <= low * (1 + options.drift_tolerance);
    if (flat) {
      low = std::min(low, s[i]);
      continue;
    }
    runs.emplace_back(first, i - 1);
    first = i;
    if (i < s.size()) low = s[i];
  }

  for (const auto& [a, b] : runs) {
    if (b - a + 1 < options.min_points) continue;
    Plateau p;
    p.first_size_bytes = curve[a].size_bytes;
    p.last_size_bytes = curve[b].size_bytes;
    p.latency_seconds = MedianRange(s, a, b);
    p.points = b - a + 1;
    if (!out.empty() && p.latency_seconds < out.back().latency_seconds * options.min_level_ratio) {
      // Same level, split by noise or a transition: merge.
      Plateau& q = out.back();
      q.last_size_bytes = p.last_size_bytes;
      q.points += p.points;
      continue;
    }
    out.push_back(p);
  }
  return out;
}

}  // namespace resmeter
