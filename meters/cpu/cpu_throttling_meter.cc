#include "meters/cpu/cpu_throttling_meter.h"

#include <algorithm>
#include <cmath>

#include "claims/cpu_claim_specs.h"
#include "meters/cpu/cpu_claims.h"
#include "meters/cpu/cpu_work.h"

namespace resmeter {

std::vector<OptionSpec> CpuThrottlingOptions() {
  return {
      {"window_seconds", OptionType::kDouble, 10.0, 1, 600, {}, "seconds all CPUs stay loaded"},
      {"sample_seconds", OptionType::kDouble, 0.5, 0.05, 10, {}, "length of one frequency sample"},
      {"chunk_seconds",
       OptionType::kDouble,
       0.001,
       0.00005,
       0.1,
       {},
       "length of one timed chunk of the chain"},
      {"throttled_fraction",
       OptionType::kDouble,
       0.9,
       0.1,
       1.0,
       {},
       "finding when sustained frequency < this fraction of burst"},
  };
}

double LinearSlope(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 2) return 0;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  return sxx > 0 ? sxy / sxx : 0;
}

MeterResult CpuThrottlingMeter::Measure(MeterContext& ctx) {
  if (!DependentChainIsCalibrated())
    return MeterResult::Unavailable("no calibrated chain for this architecture");
  Result<std::vector<int>> cpus = AllowedCpus();
  if (!cpus.ok()) return MeterResult::Failed(cpus.status().message());
  const double window = ctx.options.Double("window_seconds");
  const double sample = ctx.options.Double("sample_seconds");
  const uint64_t chunk_blocks = CalibrateChunkBlocks(*ctx.env, ctx.options.Double("chunk_seconds"));
  const size_t samples = std::max<size_t>(2, static_cast<size_t>(std::lround(window / sample)));

  const std::optional<uint64_t> thermal_before = ReadThermalThrottleCount(ctx);
  ctx.Progress("loading " + std::to_string(cpus->size()) + " cpus for " + std::to_string(window) + " s");
  std::vector<std::vector<double>> hz(cpus->size(), std::vector<double>(samples, 0));
  std::vector<std::string> errors(cpus->size());
  RunPinnedThreads(*cpus, [&](size_t i, int, const Status& pinned) {
    if (!pinned.ok()) {
      errors[i] = pinned.message();
      return;
    }
    for (size_t k = 0; k < samples && !ctx.cancelled(); ++k) {
      hz[i][k] = RunChainFor(*ctx.env, sample, chunk_blocks, ctx.cancel_flag.get()).typical_hz;
    }
  });
  if (ctx.cancelled()) return MeterResult::Failed("cancelled");
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i].empty())
      return MeterResult::Failed("cpu " + std::to_string((*cpus)[i]) + ": " + errors[i]);
  }
  const std::optional<uint64_t> thermal_after = ReadThermalThrottleCount(ctx);

  std::vector<double> t(samples), f(samples, 0);
  for (size_t k = 0; k < samples; ++k) {
    t[k] = (static_cast<double>(k) + 0.5) * sample;
    for (size_t i = 0; i < cpus->size(); ++i) f[k] += hz[i][k];
    f[k] /= static_cast<double>(cpus->size());
  }
  double burst = 0;
  for (size_t k = 0; k < samples && (k == 0 || t[k] < 1.0); ++k) burst = std::max(burst, f[k]);
  const double sustained =
      MedianOf(std::vector<double>(f.begin() + static_cast<std::ptrdiff_t>(samples / 2), f.end()));
  const double slope = LinearSlope(t, f);

  MeterResult result = MeterResult::Ok();
  auto& c = result.claims;
  SetClaim(c, kCpuThrottlingMethod, "calibrated_dependent_chain");
  SetClaim(c, kCpuThrottlingBurstHz, burst);
  SetClaim(c, kCpuThrottlingSustainedHz, sustained);
  SetClaim(c, kCpuThrottlingSustainedToBurst, burst > 0 ? sustained / burst : 0);
  SetClaim(c, kCpuThrottlingTrend, slope);
  SetClaim(c, kCpuThrottlingSamples, f);
  if (thermal_before && thermal_after)
    SetClaim(c, kCpuThrottlingThermalEvents, *thermal_after - *thermal_before);

  auto& k = result.conditions;
  k["method_detail"] =
      std::string(DependentChainName()) + " chain on every cpu at once, 1 cycle per op, CLOCK_MONOTONIC_RAW";
  k["cpus"] = *cpus;
  k["window_seconds"] = window;
  k["sample_seconds"] = sample;
  k["chunk_blocks"] = chunk_blocks;
  k["statistic"] =
      "per sample: typical chunk rate (densest 2 % band) per cpu, mean over cpus; burst: max of first "
      "second; sustained: median of second half";
  k["thermal_throttle_counters"] = thermal_before ? "sysfs thermal_throttle" : "absent";

  const double fraction = ctx.options.Double("throttled_fraction");
  if (burst > 0 && sustained < fraction * burst) {
    Finding fnd;
    fnd.code = "throttled";
    fnd.message = "sustained all-core frequency fell below the configured fraction of the burst frequency";
    fnd.details = {{"burst_hz", burst}, {"sustained_hz", sustained}, {"throttled_fraction", fraction}};
    result.findings.push_back(std::move(fnd));
  }
  if (thermal_before && thermal_after && *thermal_after > *thermal_before) {
    Finding fnd;
    fnd.code = "thermal_throttle_events";
    fnd.message = "the CPUs' thermal-throttle counters rose during the window";
    fnd.details = {{"events", *thermal_after - *thermal_before}};
    result.findings.push_back(std::move(fnd));
  }
  return result;
}

}  // namespace resmeter
