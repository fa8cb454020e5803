#include "meters/cpu/cpu_availability_meter.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <optional>

#include "claims/cpu_claim_specs.h"
#include "core/strings.h"
#include "meters/cpu/cgroup_cpu.h"
#include "meters/cpu/cpu_loss_counters.h"
#include "meters/cpu/cpu_work.h"

namespace resmeter {

std::vector<OptionSpec> CpuAvailabilityOptions() {
  return {
      {"window_seconds",
       OptionType::kDouble,
       1.0,
       0.2,
       600,
       {},
       "seconds of one measured window on every vCPU"},
      {"windows",
       OptionType::kInt,
       5,
       1,
       100,
       {},
       "measured windows, back to back (the interval comes from their spread)"},
      {"warmup_seconds",
       OptionType::kDouble,
       0.2,
       0,
       10,
       {},
       "unmeasured spin before the first window (spends a CPU quota's idle budget)"},
      {"chunk_seconds",
       OptionType::kDouble,
       0.001,
       0.00005,
       0.1,
       {},
       "length of one timed chunk of the chain"},
      {"nice",
       OptionType::kInt,
       -20,
       -20,
       19,
       {},
       "nice value of the challenge threads (applied when permitted)"},
      {"min_availability_ratio",
       OptionType::kDouble,
       0.9,
       0,
       1,
       {},
       "finding when the whole 95 % confidence interval of the availability is below this"},
  };
}

double StudentT975(int dof) {
  // Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom.
  static const double kT[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                              2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                              2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof < 1) return 0;
  if (dof <= 30) return kT[dof - 1];
  return 1.96;
}

MeanInterval MeanConfidenceInterval(const std::vector<double>& values) {
  MeanInterval m;
  if (values.empty()) return m;
  double sum = 0;
  for (double v : values) sum += v;
  const double n = static_cast<double>(values.size());
  m.mean = sum / n;
  double ss = 0;
  for (double v : values) ss += (v - m.mean) * (v - m.mean);
  m.stddev = values.size() > 1 ? std::sqrt(ss / (n - 1)) : 0;
  const double half = StudentT975(static_cast<int>(values.size()) - 1) * m.stddev / std::sqrt(n);
  m.low = m.mean - half;
  m.high = m.mean + half;
  return m;
}

std::map<int, uint64_t> StealTicksByCpu(std::string_view proc_stat) {
  std::map<int, uint64_t> out;
  for (std::string_view line : Split(proc_stat, '\n')) {
    std::vector<std::string_view> f = SplitWhitespace(line);
    if (f.size() < 9 || !StartsWith(f[0], "cpu") || f[0].size() == 3) continue;
    auto id = ParseInt64(f[0].substr(3));
    auto steal = ParseUint64(f[8]);
    if (id && steal) out[static_cast<int>(*id)] = *steal;
  }
  return out;
}

AvailabilityFigures ComputeAvailability(const ChallengeWindow& w) {
  AvailabilityFigures a;
  if (w.clock_hz <= 0 || w.wall_seconds <= 0) return a;
  const double ran = w.work_ops / w.clock_hz;  // seconds of full-speed running
  const double entitled = std::min(w.wall_seconds, w.cpu_seconds + w.steal_seconds + w.throttled_seconds);
  a.availability_ratio = entitled > 0 ? std::clamp(ran / entitled, 0.0, 1.0) : 0;
  a.wall_availability_ratio = std::clamp(ran / w.wall_seconds, 0.0, 1.0);
  a.cpu_time_ratio = w.cpu_seconds / w.wall_seconds;
  a.hidden_loss_ratio = w.cpu_seconds > 0 ? std::clamp(1 - ran / w.cpu_seconds, 0.0, 1.0) : 0;
  a.guest_contention_ratio = std::max(0.0, (w.wall_seconds - entitled) / w.wall_seconds);
  return a;
}

MeterResult CpuAvailabilityMeter::Measure(MeterContext& ctx) {
  if (!DependentChainIsCalibrated())
    return MeterResult::Unavailable("no calibrated chain for this architecture");
  Result<std::vector<int>> cpus_or = AllowedCpus();
  if (!cpus_or.ok()) return MeterResult::Failed(cpus_or.status().message());
  const std::vector<int> cpus = *cpus_or;
  const size_t n_cpus = cpus.size();
  const double window = ctx.options.Double("window_seconds");
  const size_t windows = static_cast<size_t>(ctx.options.Has("windows") ? ctx.options.Int("windows") : 5);
  const double warmup = ctx.options.Has("warmup_seconds") ? ctx.options.Double("warmup_seconds") : 0.2;
  const int want_nice = static_cast<int>(ctx.options.Int("nice"));
  const uint64_t chunk_blocks = CalibrateChunkBlocks(*ctx.env, ctx.options.Double("chunk_seconds"));
  ctx.Progress("challenge on " + std::to_string(n_cpus) + " vcpus: " + std::to_string(windows) +
               " windows of " + std::to_string(window) + " s");

  // runs[w][i]: window w of thread i. Threads spin through all windows; the
  // barrier between windows reads steal and throttle counters.
  std::vector<std::vector<ChainRun>> runs(windows, std::vector<ChainRun>(n_cpus));
  std::vector<CpuLossCounters> bounds;
  bounds.reserve(windows + 1);
  std::vector<std::string> errors(n_cpus);
  std::vector<int> nice_applied(n_cpus, 0);
  std::barrier boundary(static_cast<std::ptrdiff_t>(n_cpus),
                        [&]() noexcept { bounds.push_back(ReadCpuLossCounters(ctx)); });
  RunPinnedThreads(cpus, [&](size_t i, int, const Status& pinned) {
    if (!pinned.ok()) errors[i] = pinned.message();
    nice_applied[i] = TrySetThreadNice(want_nice);
    ChainRun warm;
    if (errors[i].empty()) warm = RunChainFor(*ctx.env, warmup, chunk_blocks, ctx.cancel_flag.get());
    for (size_t w = 0; w < windows; ++w) {
      boundary.arrive_and_wait();
      if (errors[i].empty()) runs[w][i] = RunChainFor(*ctx.env, window, chunk_blocks, ctx.cancel_flag.get());
    }
    boundary.arrive_and_wait();
  });
  if (ctx.cancelled()) return MeterResult::Failed("cancelled");
  for (size_t i = 0; i < n_cpus; ++i) {
    if (!errors[i].empty()) return MeterResult::Failed("cpu " + std::to_string(cpus[i]) + ": " + errors[i]);
  }

  // Each thread's clock rate while running: the typical chunk rate over all its windows.
  std::vector<double> clock_hz(n_cpus, 0);
  for (size_t i = 0; i < n_cpus; ++i) {
    std::vector<double> rates;
    for (size_t w = 0; w < windows; ++w)
      rates.insert(rates.end(), runs[w][i].rates.begin(), runs[w][i].rates.end());
    clock_hz[i] = TypicalRate(std::move(rates));
    if (clock_hz[i] <= 0)
      return MeterResult::Failed("cpu " + std::to_string(cpus[i]) + ": no chunk completed");
  }

  MeterResult result = MeterResult::Ok();
  nlohmann::json per_window = nlohmann::json::array();
  std::vector<double> window_ratios;
  std::vector<AvailabilityFigures> per_cpu_sum(n_cpus);
  AvailabilityFigures sum;
  double steal_total = 0, throttled_total = 0, wall = 0;
  for (size_t w = 0; w < windows; ++w) {
    const CpuLossCounters& b0 = bounds[w];
    const CpuLossCounters& b1 = bounds[w + 1];
    const double throttled = ThrottledSecondsBetween(b0, b1);
    throttled_total += throttled;
    double window_sum = 0, window_wall = 0;
    for (size_t i = 0; i < n_cpus; ++i) {
      const ChainRun& r = runs[w][i];
      ChallengeWindow cw;
      cw.work_ops = static_cast<double>(r.ops);
      cw.clock_hz = clock_hz[i];
      cw.wall_seconds = r.wall_seconds;
      cw.cpu_seconds = r.cpu_seconds;
      cw.steal_seconds = StealSecondsBetween(b0, b1, cpus[i]);
      cw.throttled_seconds = throttled / static_cast<double>(n_cpus);  // shared evenly over our vCPUs
      const AvailabilityFigures a = ComputeAvailability(cw);
      window_sum += a.availability_ratio;
      for (AvailabilityFigures* f : {&sum, &per_cpu_sum[i]}) {
        f->availability_ratio += a.availability_ratio;
        f->wall_availability_ratio += a.wall_availability_ratio;
        f->cpu_time_ratio += a.cpu_time_ratio;
        f->hidden_loss_ratio += a.hidden_loss_ratio;
        f->guest_contention_ratio += a.guest_contention_ratio;
      }
      steal_total += cw.steal_seconds;
      window_wall = std::max(window_wall, r.wall_seconds);
    }
    wall += window_wall;
    const double ratio = window_sum / static_cast<double>(n_cpus);
    window_ratios.push_back(ratio);
    per_window.push_back(
        {{"availability_ratio", ratio}, {"wall_seconds", window_wall}, {"throttled_seconds", throttled}});
  }
  const double samples = static_cast<double>(windows * n_cpus);
  const MeanInterval ci = MeanConfidenceInterval(window_ratios);
  nlohmann::json per_cpu = nlohmann::json::array();
  for (size_t i = 0; i < n_cpus; ++i) {
    const double k = static_cast<double>(windows);
    per_cpu.push_back({{"cpu", cpus[i]},
                       {"availability_ratio", per_cpu_sum[i].availability_ratio / k},
                       {"wall_availability_ratio", per_cpu_sum[i].wall_availability_ratio / k},
                       {"cpu_time_ratio", per_cpu_sum[i].cpu_time_ratio / k},
                       {"hidden_loss_ratio", per_cpu_sum[i].hidden_loss_ratio / k},
                       {"guest_contention_ratio", per_cpu_sum[i].guest_contention_ratio / k},
                       {"clock_hz", clock_hz[i]}});
  }
  nlohmann::json cg = nullptr;
  if (bounds.back().cgroup) {
    const CgroupCpuLimit& last = *bounds.back().cgroup;
    const uint64_t first_nr = bounds.front().cgroup ? bounds.front().cgroup->nr_throttled : last.nr_throttled;
    cg = {{"version", last.version},
          {"path", last.path},
          {"quota_cpus", last.quota_cpus},
          {"throttled_periods", last.nr_throttled - std::min(last.nr_throttled, first_nr)},
          {"throttled_seconds", throttled_total}};
  }

  const double total = ci.mean;
  auto& c = result.claims;
  SetClaim(c, kCpuAvailabilityMethod, "calibrated_dependent_chain_self_calibrated");
  SetClaim(c, kCpuAvailabilityRatio, total);
  SetClaim(c, kCpuAvailabilityCi95Low, std::max(0.0, ci.low));
  SetClaim(c, kCpuAvailabilityCi95High, std::min(1.0, ci.high));
  SetClaim(c, kCpuAvailabilityStddev, ci.stddev);
  SetClaim(c, kCpuAvailabilityDeliveredVcpus, total * static_cast<double>(n_cpus));
  SetClaim(c, kCpuAvailabilityWallRatio, sum.wall_availability_ratio / samples);
  SetClaim(c, kCpuAvailabilityCpuTimeRatio, sum.cpu_time_ratio / samples);
  SetClaim(c, kCpuAvailabilityHiddenLoss, sum.hidden_loss_ratio / samples);
  SetClaim(c, kCpuAvailabilityGuestContention, sum.guest_contention_ratio / samples);
  SetClaim(c, kCpuAvailabilityStealSeconds, steal_total);
  SetClaim(c, kCpuAvailabilityWindows, per_window);
  SetClaim(c, kCpuAvailabilityPerCpu, per_cpu);

  auto& k = result.conditions;
  k["method_detail"] =
      std::string(DependentChainName()) +
      " chain per vcpu; per window availability = work / (typical chunk rate x entitled time), "
      "entitled = min(wall, thread cpu time + steal + cgroup throttled time); mean over windows "
      "with a Student-t 95 % interval";
  k["cpus"] = cpus;
  k["window_seconds"] = window;
  k["windows"] = windows;
  k["warmup_seconds"] = warmup;
  k["chunk_blocks"] = chunk_blocks;
  k["nice_requested"] = want_nice;
  k["nice_applied"] = nice_applied;
  k["guest_cgroup_cpu"] = cg;

  const double min_ratio = ctx.options.Double("min_availability_ratio");
  if (AvailabilityBelowBound(ci, min_ratio)) {
    std::string cause;
    const double n = static_cast<double>(n_cpus);
    if (!cg.is_null() && cg["quota_cpus"].get<double>() > 0) {
      char quota[32];
      std::snprintf(quota, sizeof quota, "%.2f", cg["quota_cpus"].get<double>());
      cause = std::string("the guest's own cgroup limits this process to ") + quota + " cpus";
    } else if (steal_total > 0.5 * (1 - total) * wall * n) {
      cause = "the host reports the lost time as steal";
    } else {
      cause = "the host took the vcpus without reporting steal (host quota or overcommit)";
    }
    Finding f;
    f.code = "cpu_availability_low";
    f.message =
        "the vcpus delivered less of the windows than required (whole 95 % interval below the bound): " +
        cause;
    f.details = {{"availability_ratio", total},
                 {"ci95_low_ratio", ci.low},
                 {"ci95_high_ratio", ci.high},
                 {"min_availability_ratio", min_ratio},
                 {"delivered_vcpus", total * n},
                 {"vcpus", n_cpus},
                 {"cpu_time_ratio", sum.cpu_time_ratio / samples},
                 {"hidden_loss_ratio", sum.hidden_loss_ratio / samples},
                 {"steal_seconds", steal_total},
                 {"guest_cgroup_cpu", cg}};
    result.findings.push_back(std::move(f));
  }
  return result;
}

}  // namespace resmeter
