#include "meters/cpu/cpu_effective_meter.h"

#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <map>

#include "claims/cpu_claim_specs.h"
#include "meters/cpu/cpu_availability_meter.h"
#include "meters/cpu/cpu_loss_counters.h"
#include "meters/cpu/cpu_work.h"

namespace resmeter {
uint64_t RunIndependentChains(uint64_t blocks) {
  uint64_t a = 0, b = 1, c = 2, d = 3, e = 4, f = 5, g = 6, h = 7;
  const uint64_t one = 1;
  for (uint64_t k = 0; k < blocks; ++k) {
#if defined(__x86_64__)
    asm volatile(
        ".rept 8\n\tadd %8, %0\n\tadd %8, %1\n\tadd %8, %2\n\tadd %8, %3\n\t"
        "add %8, %4\n\tadd %8, %5\n\tadd %8, %6\n\tadd %8, %7\n\t.endr"
        : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f), "+r"(g), "+r"(h)
        : "r"(one));
#elif defined(__aarch64__)
    asm volatile(
        ".rept 8\n\tadd %0, %0, %8\n\tadd %1, %1, %8\n\tadd %2, %2, %8\n\tadd %3, %3, %8\n\t"
        "add %4, %4, %8\n\tadd %5, %5, %8\n\tadd %6, %6, %8\n\tadd %7, %7, %8\n\t.endr"
        : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f), "+r"(g), "+r"(h)
        : "r"(one));
#else
    for (int i = 0; i < 8; ++i) {
      a += one;
      b += one;
      c += one;
      d += one;
      e += one;
      f += one;
      g += one;
      h += one;
      asm volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f), "+r"(g), "+r"(h));
    }
#endif
  }
  return a + b + c + d + e + f + g + h;  // = 28 + 64 x blocks
}

double EffectiveVcpus(const ParallelRound& round) {
  if (round.single_ops_per_second <= 0) return 0;
  const size_t n = std::min(round.all_ops.size(), round.all_wall_seconds.size());
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    ChallengeWindow w;
    w.work_ops = round.all_ops[i];
    w.clock_hz = round.single_ops_per_second;
    w.wall_seconds = round.all_wall_seconds[i];
    // Without CPU clocks the whole wall time counts as entitled.
    w.cpu_seconds = i < round.all_cpu_seconds.size() ? round.all_cpu_seconds[i] : w.wall_seconds;
    w.steal_seconds = i < round.all_steal_seconds.size() ? round.all_steal_seconds[i] : 0;
    w.throttled_seconds = round.throttled_seconds / static_cast<double>(n);
    total += ComputeAvailability(w).availability_ratio;
  }
  return total;
}

double ConcurrentSpeedRatio(const ParallelRound& round) {
  if (round.single_typical_ops_per_second <= 0 || round.all_typical_ops_per_second.empty()) return 0;
  double sum = 0;
  for (double hz : round.all_typical_ops_per_second) sum += hz;
  return sum / static_cast<double>(round.all_typical_ops_per_second.size()) /
         round.single_typical_ops_per_second;
}

std::vector<OptionSpec> CpuEffectiveOptions() {
  return {
      {"single_seconds",
       OptionType::kDouble,
       0.3,
       0.05,
       30,
       {},
       "seconds one vCPU runs the workload alone per round"},
      {"all_seconds", OptionType::kDouble, 1.0, 0.1, 60, {}, "seconds all vCPUs run it together per round"},
      {"warmup_seconds",
       OptionType::kDouble,
       0.1,
       0,
       10,
       {},
       "unmeasured spin of all vCPUs before each all-vCPU phase (spends a quota's idle budget)"},
      {"rounds", OptionType::kInt, 5, 1, 50, {}, "rounds; the claim is their median"},
      {"chunk_seconds", OptionType::kDouble, 0.001, 0.00005, 0.1, {}, "length of one timed chunk"},
      {"nice",
       OptionType::kInt,
       -20,
       -20,
       19,
       {},
       "nice value of the workload threads (applied when permitted)"},
      {"min_effective_ratio",
       OptionType::kDouble,
       0.75,
       0,
       1,
       {},
       "finding when effective_vcpus is below this fraction of the vCPUs"},
  };
}

MeterResult CpuEffectiveMeter::Measure(MeterContext& ctx) {
  Result<std::vector<int>> cpus_or = AllowedCpus();
  if (!cpus_or.ok()) return MeterResult::Failed(cpus_or.status().message());
  const std::vector<int> cpus = *cpus_or;
  const size_t n = cpus.size();
  const double single_seconds = ctx.options.Double("single_seconds");
  const double all_seconds = ctx.options.Double("all_seconds");
  const double warmup = ctx.options.Double("warmup_seconds");
  const int rounds = static_cast<int>(ctx.options.Int("rounds"));
  const int want_nice = static_cast<int>(ctx.options.Int("nice"));
  const ChainSource workload{[](uint64_t blocks) { RunIndependentChains(blocks); },
                             [] { return ThreadCpuSeconds(); }};
  // Chunk size: calibrated on the workload itself (ops per block are the same).
  uint64_t chunk_blocks = 1000;
  {
    const double target = ctx.options.Double("chunk_seconds");
    for (int i = 0; i < 20; ++i) {
      const double t0 = ctx.env->MonotonicSeconds();
      RunIndependentChains(chunk_blocks);
      const double dt = ctx.env->MonotonicSeconds() - t0;
      if (dt >= target / 4) {
        chunk_blocks =
            std::max<uint64_t>(100, static_cast<uint64_t>(static_cast<double>(chunk_blocks) * target / dt));
        break;
      }
      chunk_blocks *= 4;
    }
  }

  nlohmann::json per_round = nlohmann::json::array();
  std::vector<double> effective, speeds;
  for (int r = 0; r < rounds; ++r) {
    if (ctx.cancelled()) return MeterResult::Failed("cancelled");
    ctx.Progress("round " + std::to_string(r + 1) + " of " + std::to_string(rounds));
    ParallelRound round;
    const int single_cpu = cpus[static_cast<size_t>(r) % n];
    std::string error;
    RunPinnedThreads({single_cpu}, [&](size_t, int, const Status& pinned) {
      if (!pinned.ok()) {
        error = pinned.message();
        return;
      }
      TrySetThreadNice(want_nice);
      const ChainRun run =
          RunChainFor(*ctx.env, single_seconds, chunk_blocks, ctx.cancel_flag.get(), workload);
      round.single_typical_ops_per_second = run.typical_hz;
      // Every chunk's work (the CPU time spans them all) over the CPU time;
      // without a thread CPU clock, the typical chunk rate.
      const double chunk_ops = static_cast<double>(chunk_blocks * kIndependentOpsPerBlock);
      round.single_ops_per_second = run.cpu_seconds > 0
                                        ? static_cast<double>(run.chunks) * chunk_ops / run.cpu_seconds
                                        : run.typical_hz;
    });
    if (!error.empty()) return MeterResult::Failed("cpu " + std::to_string(single_cpu) + ": " + error);

    round.all_ops.assign(n, 0);
    round.all_wall_seconds.assign(n, 0);
    round.all_cpu_seconds.assign(n, 0);
    round.all_steal_seconds.assign(n, 0);
    round.all_typical_ops_per_second.assign(n, 0);
    std::vector<std::string> errors(n);
    CpuLossCounters before, after;
    std::barrier start(static_cast<std::ptrdiff_t>(n), [&]() noexcept { before = ReadCpuLossCounters(ctx); });
    std::barrier end(static_cast<std::ptrdiff_t>(n), [&]() noexcept { after = ReadCpuLossCounters(ctx); });
    RunPinnedThreads(cpus, [&](size_t i, int, const Status& pinned) {
      if (!pinned.ok()) errors[i] = pinned.message();
      TrySetThreadNice(want_nice);
      if (errors[i].empty() && warmup > 0)
        RunChainFor(*ctx.env, warmup, chunk_blocks, ctx.cancel_flag.get(), workload);
      start.arrive_and_wait();
      if (errors[i].empty()) {
        const ChainRun run =
            RunChainFor(*ctx.env, all_seconds, chunk_blocks, ctx.cancel_flag.get(), workload);
        round.all_ops[i] = static_cast<double>(run.ops);
        round.all_wall_seconds[i] = run.wall_seconds;
        round.all_cpu_seconds[i] = run.cpu_seconds;
        round.all_typical_ops_per_second[i] = run.typical_hz;
      }
      end.arrive_and_wait();
    });
    for (size_t i = 0; i < n; ++i) round.all_steal_seconds[i] = StealSecondsBetween(before, after, cpus[i]);
    round.throttled_seconds = ThrottledSecondsBetween(before, after);
    for (size_t i = 0; i < n; ++i) {
      if (!errors[i].empty()) return MeterResult::Failed("cpu " + std::to_string(cpus[i]) + ": " + errors[i]);
    }
    if (ctx.cancelled()) return MeterResult::Failed("cancelled");
    const double e = EffectiveVcpus(round);
    if (e <= 0) return MeterResult::Failed("round " + std::to_string(r + 1) + ": no chunk completed");
    effective.push_back(e);
    const double speed = ConcurrentSpeedRatio(round);
    speeds.push_back(speed);
    double all_rate = 0;
    for (size_t i = 0; i < n; ++i) all_rate += round.all_ops[i] / std::max(1e-9, round.all_wall_seconds[i]);
    per_round.push_back({{"single_cpu", single_cpu},
                         {"single_ops_per_second", round.single_ops_per_second},
                         {"single_typical_ops_per_second", round.single_typical_ops_per_second},
                         {"all_ops_per_second", all_rate},
                         {"concurrent_speed_ratio", speed},
                         {"throttled_seconds", round.throttled_seconds},
                         {"effective_vcpus", e}});
  }
  std::vector<double> sorted = effective;
  std::sort(sorted.begin(), sorted.end());
  const double median = MedianOf(effective);

  MeterResult result = MeterResult::Ok();
  auto& c = result.claims;
  SetClaim(c, kCpuEffectiveMethod, "parallel_speedup_of_independent_add_chains");
  SetClaim(c, kCpuEffectiveVcpus, median);
  SetClaim(c, kCpuEffectiveAllowedVcpus, n);
  SetClaim(c, kCpuEffectiveRatio, median / static_cast<double>(n));
  SetClaim(c, kCpuEffectiveVcpusMin, sorted.front());
  SetClaim(c, kCpuEffectiveVcpusMax, sorted.back());
  SetClaim(c, kCpuEffectiveConcurrentSpeed, MedianOf(speeds));
  SetClaim(c, kCpuEffectiveRounds, per_round);
  auto& k = result.conditions;
  k["method_detail"] =
      "8 interleaved independent add chains per thread; effective = sum over vcpus (all at once) of work / "
      "(rate of one vcpu alone x entitled time), the rate alone = its work over its thread cpu time, "
      "entitled = min(wall, thread cpu time + steal + cgroup throttled time); median over rounds";
  k["cpus"] = cpus;
  k["single_seconds"] = single_seconds;
  k["all_seconds"] = all_seconds;
  k["warmup_seconds"] = warmup;
  k["chunk_blocks"] = chunk_blocks;
  k["ops_per_block"] = kIndependentOpsPerBlock;
  const double min_ratio = ctx.options.Double("min_effective_ratio");
  if (median < min_ratio * static_cast<double>(n)) {
    Finding f;
    f.code = "effective_vcpus_low";
    f.message =
        "all vcpus together deliver less than the required share of their count (shared cores, a quota or "
        "an overcommitted host)";
    f.details = {{"effective_vcpus", median}, {"vcpus", n}, {"min_effective_ratio", min_ratio}};
    result.findings.push_back(std::move(f));
  }
  return result;
}

}  // namespace resmeter
