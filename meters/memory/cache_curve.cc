#include "meters/memory/cache_curve.h"

#include <algorithm>
#include <cmath>

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

// The size, interpolated in log2, at which the smoothed latency after index
// `last` first reaches `threshold`; the size at `last` when it never does.
uint64_t KneeSize(const std::vector<CurvePoint>& curve, const std::vector<double>& s, size_t last,
                  double threshold) {
  for (size_t j = last + 1; j < s.size(); ++j) {
    if (s[j] < threshold) continue;
    const double lo = std::log2(static_cast<double>(curve[j - 1].size_bytes));
    const double hi = std::log2(static_cast<double>(curve[j].size_bytes));
    const double t = s[j] > s[j - 1] ? std::clamp((threshold - s[j - 1]) / (s[j] - s[j - 1]), 0.0, 1.0) : 1.0;
    return static_cast<uint64_t>(std::exp2(lo + t * (hi - lo)));
  }
  return curve[last].size_bytes;
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

  std::vector<size_t> last_index;  // per plateau in `out`: index of its last point
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
      last_index.back() = b;
      continue;
    }
    out.push_back(p);
    last_index.push_back(b);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    // Within the transition: not before the plateau ends, not past where the next one starts.
    uint64_t knee = KneeSize(curve, s, last_index[i], out[i].latency_seconds * options.knee_rise);
    if (i + 1 < out.size()) knee = std::min(knee, out[i + 1].first_size_bytes);
    out[i].capacity_bytes = std::max(knee, out[i].last_size_bytes);
  }
  return out;
}

}  // namespace resmeter
