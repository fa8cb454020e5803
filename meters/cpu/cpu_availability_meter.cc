#include "meters/cpu/cpu_availability_meter.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdio>

#include "core/strings.h"
#include "meters/cpu/cgroup_cpu.h"
#include "meters/cpu/cpu_work.h"

namespace resmeter {

std::vector<OptionSpec> CpuAvailabilityOptions() {
  return {
      {"window_seconds", OptionType::kDouble, 3.0, 0.5, 600, {}, "seconds the challenge runs on every vCPU"},
      {"chunk_seconds", OptionType::kDouble, 0.001, 0.00005, 0.1, {}, "length of one timed chunk of the chain"},
      {"nice", OptionType::kInt, -20, -20, 19, {}, "nice value of the challenge threads (applied when permitted)"},
      {"min_availability_ratio", OptionType::kDouble, 0.9, 0, 1, {}, "finding when total availability is below this"},
  };
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
  if (!DependentChainIsCalibrated()) return MeterResult::Unavailable("no calibrated chain for this architecture");
  Result<std::vector<int>> cpus_or = AllowedCpus();
  if (!cpus_or.ok()) return MeterResult::Failed(cpus_or.status().message());
  const std::vector<int> cpus = *cpus_or;
  const double window = ctx.options.Double("window_seconds");
  const int want_nice = static_cast<int>(ctx.options.Int("nice"));
  const uint64_t chunk_blocks = CalibrateChunkBlocks(*ctx.env, ctx.options.Double("chunk_seconds"));

  Result<CgroupCpuLimit> cg_before = ReadCgroupCpuLimit(ctx);
  Result<std::string> stat_before = ctx.env->ReadFile(ctx.Proc("stat"));
  ctx.Progress("challenge on " + std::to_string(cpus.size()) + " vcpus for " + std::to_string(window) + " s");

  std::vector<ChainRun> runs(cpus.size());
  std::vector<std::string> errors(cpus.size());
  std::vector<int> nice_applied(cpus.size(), 0);
  std::barrier start(static_cast<std::ptrdiff_t>(cpus.size()));
  RunPinnedThreads(cpus, [&](size_t i, int, const Status& pinned) {
    if (!pinned.ok()) errors[i] = pinned.message();
    nice_applied[i] = TrySetThreadNice(want_nice);
    start.arrive_and_wait();
    if (errors[i].empty()) runs[i] = RunChainFor(*ctx.env, window, chunk_blocks, ctx.cancel_flag.get());
  });
  if (ctx.cancelled()) return MeterResult::Failed("cancelled");
  for (size_t i = 0; i < cpus.size(); ++i) {
    if (!errors[i].empty()) return MeterResult::Failed("cpu " + std::to_string(cpus[i]) + ": " + errors[i]);
    if (runs[i].best_hz <= 0 || runs[i].wall_seconds <= 0) return MeterResult::Failed("cpu " + std::to_string(cpus[i]) + ": no chunk completed");
  }
  Result<std::string> stat_after = ctx.env->ReadFile(ctx.Proc("stat"));
  Result<CgroupCpuLimit> cg_after = ReadCgroupCpuLimit(ctx);

  std::map<int, uint64_t> steal_before, steal_after;
  if (stat_before.ok() && stat_after.ok()) {
    steal_before = StealTicksByCpu(*stat_before);
    steal_after = StealTicksByCpu(*stat_after);
  }
  double throttled_each = 0;  // the cgroup's throttled time, shared evenly over our vCPUs
  nlohmann::json cg = nullptr;
  if (cg_before.ok() && cg_after.ok()) {
    const double throttled = std::max(0.0, cg_after->throttled_seconds - cg_before->throttled_seconds);
    throttled_each = throttled / static_cast<double>(cpus.size());
    cg = {{"version", cg_after->version},
          {"path", cg_after->path},
          {"quota_cpus", cg_after->quota_cpus},
          {"throttled_periods", cg_after->nr_throttled - std::min(cg_after->nr_throttled, cg_before->nr_throttled)},
          {"throttled_seconds", throttled}};
  }
  const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));

  MeterResult result = MeterResult::Ok();
  nlohmann::json per_cpu = nlohmann::json::array();
  AvailabilityFigures sum;
  double steal_total = 0, wall = 0;
  for (size_t i = 0; i < cpus.size(); ++i) {
    const ChainRun& r = runs[i];
    ChallengeWindow w;
    w.work_ops = static_cast<double>(r.ops);
    w.clock_hz = r.best_hz;
    w.wall_seconds = r.wall_seconds;
    w.cpu_seconds = r.cpu_seconds;
    w.steal_seconds = static_cast<double>(steal_after[cpus[i]] - std::min(steal_after[cpus[i]], steal_before[cpus[i]])) * tick;
    w.throttled_seconds = throttled_each;
    const AvailabilityFigures a = ComputeAvailability(w);
    sum.availability_ratio += a.availability_ratio;
    sum.wall_availability_ratio += a.wall_availability_ratio;
    sum.cpu_time_ratio += a.cpu_time_ratio;
    sum.hidden_loss_ratio += a.hidden_loss_ratio;
    sum.guest_contention_ratio += a.guest_contention_ratio;
    steal_total += w.steal_seconds;
    wall = std::max(wall, r.wall_seconds);
    per_cpu.push_back({{"cpu", cpus[i]},
                       {"availability_ratio", a.availability_ratio},
                       {"wall_availability_ratio", a.wall_availability_ratio},
                       {"cpu_time_ratio", a.cpu_time_ratio},
                       {"hidden_loss_ratio", a.hidden_loss_ratio},
                       {"guest_contention_ratio", a.guest_contention_ratio},
                       {"steal_seconds", w.steal_seconds},
                       {"clock_hz", r.best_hz},
                       {"work_ops", r.ops}});
  }
  const double n = static_cast<double>(cpus.size());
  const double total = sum.availability_ratio / n;
  auto& c = result.claims;
  c["method"] = "calibrated_dependent_chain_self_calibrated";
  c["availability_ratio"] = total;
  c["delivered_vcpus"] = sum.availability_ratio;
  c["wall_availability_ratio"] = sum.wall_availability_ratio / n;
  c["cpu_time_ratio"] = sum.cpu_time_ratio / n;
  c["hidden_loss_ratio"] = sum.hidden_loss_ratio / n;
  c["guest_contention_ratio"] = sum.guest_contention_ratio / n;
  c["steal_seconds"] = steal_total;
  c["per_cpu"] = per_cpu;

  auto& k = result.conditions;
  k["method_detail"] = std::string(DependentChainName()) +
                       " chain per vcpu; availability = work / (fastest chunk rate x entitled time), "
                       "entitled = min(wall, thread cpu time + steal + cgroup throttled time)";
  k["cpus"] = cpus;
  k["window_seconds"] = window;
  k["chunk_blocks"] = chunk_blocks;
  k["nice_requested"] = want_nice;
  k["nice_applied"] = nice_applied;
  k["guest_cgroup_cpu"] = cg;

  const double min_ratio = ctx.options.Double("min_availability_ratio");
  if (total < min_ratio) {
    std::string cause;
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
    f.message = "the vcpus delivered less of the window than required: " + cause;
    f.details = {{"availability_ratio", total}, {"min_availability_ratio", min_ratio},
                 {"delivered_vcpus", sum.availability_ratio}, {"vcpus", cpus.size()},
                 {"cpu_time_ratio", sum.cpu_time_ratio / n}, {"hidden_loss_ratio", sum.hidden_loss_ratio / n},
                 {"steal_seconds", steal_total}, {"guest_cgroup_cpu", cg}};
    result.findings.push_back(std::move(f));
  }
  return result;
}

}  // namespace resmeter
