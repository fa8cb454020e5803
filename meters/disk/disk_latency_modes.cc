#include "meters/disk/disk_latency_modes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace resmeter {
namespace {

constexpr int kBinsPerOctave = 4;
constexpr int kLogBins = kBinsPerOctave * 64 + 1;

double Mid(const LatencyBin& b) {
  return (static_cast<double>(b.lower_ns) + static_cast<double>(b.upper_ns)) / 2;
}

// Quarter-octave index of a latency (values below 1 ns count as 1 ns).
int LogIndex(double ns) {
  const int k = static_cast<int>(std::floor(kBinsPerOctave * std::log2(std::max(ns, 1.0))));
  return std::clamp(k, 0, kLogBins - 1);
}

// The lower edge of quarter-octave bin k, in ns.
double LogEdge(int k) { return std::exp2(static_cast<double>(k) / kBinsPerOctave); }

// Median (bin midpoint) of the bins whose log index is in [from, to).
double Median(const std::vector<LatencyBin>& sorted, int from, int to) {
  uint64_t n = 0;
  for (const auto& b : sorted) {
    const int k = LogIndex(Mid(b));
    if (k >= from && k < to) n += b.count;
  }
  uint64_t seen = 0;
  for (const auto& b : sorted) {
    const int k = LogIndex(Mid(b));
    if (k < from || k >= to) continue;
    seen += b.count;
    if (2 * seen >= n) return Mid(b);
  }
  return 0;
}

std::string Us(double ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f us", ns / 1e3);
  return buf;
}

std::string Pct(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", x * 100);
  return buf;
}

}  // namespace

LatencyModes FindLatencyModes(const std::vector<LatencyBin>& bins_in) {
  std::vector<LatencyBin> bins;
  for (const auto& b : bins_in)
    if (b.count > 0) bins.push_back(b);
  std::sort(bins.begin(), bins.end(),
            [](const LatencyBin& a, const LatencyBin& b) { return a.lower_ns < b.lower_ns; });

  LatencyModes m;
  std::vector<double> c(kLogBins, 0);
  for (const auto& b : bins) {
    c[static_cast<size_t>(LogIndex(Mid(b)))] += static_cast<double>(b.count);
    m.total += b.count;
  }
  m.slow_count = m.total;
  if (m.total < 2 * LatencyModes::kMinModeCount) {
    m.explanation = "too few I/Os (" + std::to_string(m.total) + ") to tell modes apart";
    return m;
  }

  // 1. Otsu's threshold over the log-latency bins.
  double sum_all = 0;
  for (int k = 0; k < kLogBins; ++k) sum_all += k * c[k];
  const double n = static_cast<double>(m.total);
  double w0 = 0, s0 = 0, best = -1;
  int split = -1;
  for (int t = 1; t < kLogBins; ++t) {
    w0 += c[t - 1];
    s0 += (t - 1) * c[t - 1];
    const double w1 = n - w0;
    if (w0 == 0 || w1 == 0) continue;
    const double d = s0 / w0 - (sum_all - s0) / w1;
    const double between = w0 * w1 * d * d;
    if (between > best) {
      best = between;
      split = t;
    }
  }
  if (split < 0) {
    m.explanation = "every I/O in one quarter-octave bin: one mode";
    return m;
  }

  // 2. Otsu's threshold is anywhere in an empty gap; move it to the middle of
  // the least dense bins between the two sides' peaks (smoothed counts).
  std::vector<double> s(kLogBins, 0);
  for (int k = 0; k < kLogBins; ++k)
    s[k] = 2 * c[k] + (k > 0 ? c[k - 1] : 0) + (k + 1 < kLogBins ? c[k + 1] : 0);
  const int peak_lo = static_cast<int>(std::max_element(s.begin(), s.begin() + split) - s.begin());
  const int peak_hi = static_cast<int>(std::max_element(s.begin() + split, s.end()) - s.begin());
  const double valley = *std::min_element(s.begin() + peak_lo, s.begin() + peak_hi + 1);
  std::vector<int> valley_bins;
  for (int k = peak_lo + 1; k <= peak_hi; ++k)
    if (s[k] == valley) valley_bins.push_back(k);
  if (!valley_bins.empty()) split = valley_bins[valley_bins.size() / 2];
  const double lower_peak = std::min(s[peak_lo], s[peak_hi]);

  // 3. The checks, on that split.
  uint64_t fast = 0;
  for (const auto& b : bins)
    if (LogIndex(Mid(b)) < split) fast += b.count;
  const uint64_t slow = m.total - fast;
  const double fast_median = Median(bins, 0, split);
  const double slow_median = Median(bins, split, kLogBins);
  m.separation_ratio = fast_median > 0 ? slow_median / fast_median : 0;
  m.valley_ratio = lower_peak > 0 ? valley / lower_peak : 1;

  const double minority = static_cast<double>(std::min(fast, slow)) / n;
  const std::string found = "split at " + Us(LogEdge(split)) + ": " + Pct(static_cast<double>(fast) / n) +
                            " fast (median " + Us(fast_median) + "), " + Pct(static_cast<double>(slow) / n) +
                            " slow (median " + Us(slow_median) + ")";
  if (minority < LatencyModes::kMinModeFraction || std::min(fast, slow) < LatencyModes::kMinModeCount) {
    m.explanation = "one mode: the best " + found + " leaves fewer than " +
                    Pct(LatencyModes::kMinModeFraction) + " on one side";
  } else if (m.separation_ratio < LatencyModes::kMinSeparationRatio) {
    m.explanation = "one mode: the best " + found + " separates the medians by less than " +
                    std::to_string(static_cast<int>(LatencyModes::kMinSeparationRatio)) + "x";
  } else if (m.valley_ratio > LatencyModes::kMaxValleyRatio) {
    m.explanation = "one mode: no valley between the sides of the best " + found;
  } else {
    m.bimodal = true;
    m.fast_count = fast;
    m.slow_count = slow;
    m.split_ns = LogEdge(split);
    m.fast_median_ns = fast_median;
    m.slow_median_ns = slow_median;
    m.explanation = "two modes: " + found;
  }
  return m;
}

std::vector<LatencyBin> LatencyBinsOf(const LatencyHistogram& h) {
  std::vector<LatencyBin> bins;
  for (int i = 0; i < LatencyHistogram::BucketCount(); ++i) {
    const uint64_t count = h.CountAt(i);
    if (count) bins.push_back({LatencyHistogram::BucketLower(i), LatencyHistogram::BucketUpper(i), count});
  }
  return bins;
}

LatencyModes FindLatencyModes(const LatencyHistogram& h) { return FindLatencyModes(LatencyBinsOf(h)); }

}  // namespace resmeter
