#include "meters/cpu/cpu_frequency_meter.h"

#include <algorithm>
#include <mutex>

#include "claims/cpu_claim_specs.h"
#include "meters/cpu/cpu_claims.h"
#include "meters/cpu/cpu_work.h"
#include "meters/cpu/pmu.h"

namespace resmeter {
namespace {

// Blocks of the PMU probe: about 1.3 M cycles, well above counter noise.
constexpr uint64_t kProbeBlocks = 20000;

// One window's result on one CPU.
struct CoreSample {
  int cpu = 0;
  ChainRun run;
  std::string error;  // pin or counter failure
};

// Runs the chain on each CPU of `cpus` at once for `seconds`, pinned, with a
// PMU counter per thread when `pmu` is set.
std::vector<CoreSample> SampleCpus(const MeterContext& ctx, const std::vector<int>& cpus, double seconds,
                                   uint64_t chunk_blocks, CycleCounterSource* pmu) {
  std::vector<CoreSample> out(cpus.size());
  RunPinnedThreads(cpus, [&](size_t i, int cpu, const Status& pinned) {
    out[i].cpu = cpu;
    if (!pinned.ok()) {
      out[i].error = pinned.message();
      return;
    }
    std::unique_ptr<CycleCounter> counter;
    if (pmu) {
      auto opened = pmu->OpenForCurrentThread();
      if (!opened.ok()) {
        out[i].error = opened.status().message();
        return;
      }
      counter = std::move(opened).value();
    }
    out[i].run = RunChainFor(*ctx.env, seconds, chunk_blocks, ctx.cancel_flag.get(), counter.get());
  });
  return out;
}

}  // namespace

CpuFrequencyMeter::CpuFrequencyMeter() : pmu_(MakePerfCycleCounterSource()) {}

std::vector<OptionSpec> CpuFrequencyOptions() {
  return {
      {"sample_seconds",
       OptionType::kDouble,
       0.25,
       0.01,
       10,
       {},
       "seconds each CPU runs alone (single-core burst)"},
      {"all_core_seconds",
       OptionType::kDouble,
       0.5,
       0.01,
       30,
       {},
       "seconds all CPUs run at once (all-core frequency)"},
      {"chunk_seconds",
       OptionType::kDouble,
       0.001,
       0.00005,
       0.1,
       {},
       "length of one timed chunk of the chain"},
      {"use_pmu",
       OptionType::kBool,
       true,
       {},
       {},
       {},
       "use a hardware cycle counter when one passes the runtime check"},
      {"below_nominal_fraction",
       OptionType::kDouble,
       0.95,
       0.1,
       1.0,
       {},
       "finding when the burst frequency is below this fraction of the nominal one"},
  };
}

MeterResult CpuFrequencyMeter::Measure(MeterContext& ctx) {
  Result<std::vector<int>> cpus = AllowedCpus();
  if (!cpus.ok()) return MeterResult::Failed(cpus.status().message());

  MeterResult result = MeterResult::Ok();
  CycleCounterSource* pmu = nullptr;
  std::string pmu_detail = "PMU not tried (use_pmu=false)";
  if (pmu_ && ctx.options.Bool("use_pmu")) {
    ctx.Progress("checking for a usable PMU");
    PmuDetection det = DetectPmu(*pmu_, [] {
      RunDependentChain(kProbeBlocks);
      return kProbeBlocks * kChainOpsPerBlock;
    });
    pmu_detail = det.detail;
    if (det.finding) result.findings.push_back(*det.finding);
    if (det.usable) pmu = pmu_.get();
  } else if (!pmu_) {
    pmu_detail = "no PMU counter source";
  }
  if (!pmu && !DependentChainIsCalibrated()) {
    return MeterResult::Unavailable(pmu_detail + "; and no calibrated chain for this architecture");
  }

  const double chunk_seconds = ctx.options.Double("chunk_seconds");
  const uint64_t chunk_blocks = CalibrateChunkBlocks(*ctx.env, chunk_seconds);
  Result<std::string> cpuinfo = ctx.env->ReadFile(ctx.Proc("cpuinfo"));
  const bool invariant_tsc = cpuinfo.ok() && HasInvariantTsc(*cpuinfo) && ReadTimestampCounter() != 0;

  // Single-core: one CPU at a time.
  nlohmann::json per_core = nlohmann::json::array();
  double burst = 0;
  uint64_t tsc_ticks = 0;
  double tsc_seconds = 0;
  for (int cpu : *cpus) {
    if (ctx.cancelled()) return MeterResult::Failed("cancelled");
    ctx.Progress("cpu " + std::to_string(cpu) + " alone");
    CoreSample s = SampleCpus(ctx, {cpu}, ctx.options.Double("sample_seconds"), chunk_blocks, pmu)[0];
    if (!s.error.empty()) return MeterResult::Failed("cpu " + std::to_string(cpu) + ": " + s.error);
    burst = std::max(burst, s.run.typical_hz);
    tsc_ticks += s.run.tsc_ticks;
    tsc_seconds += s.run.span_seconds;
    per_core.push_back({{"cpu", cpu},
                        {"single_core_hz", s.run.typical_hz},
                        {"single_core_median_hz", s.run.median_hz},
                        {"single_core_fastest_chunk_hz", s.run.best_hz},
                        {"single_core_chunks", s.run.chunks}});
  }

  // All cores together.
  ctx.Progress("all cpus at once");
  std::vector<CoreSample> all =
      SampleCpus(ctx, *cpus, ctx.options.Double("all_core_seconds"), chunk_blocks, pmu);
  if (ctx.cancelled()) return MeterResult::Failed("cancelled");
  double all_sum = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (!all[i].error.empty())
      return MeterResult::Failed("cpu " + std::to_string(all[i].cpu) + ": " + all[i].error);
    all_sum += all[i].run.typical_hz;
    per_core[i]["all_core_hz"] = all[i].run.typical_hz;
    per_core[i]["all_core_chunks"] = all[i].run.chunks;
  }
  const double all_core = all_sum / static_cast<double>(all.size());

  auto& c = result.claims;
  SetClaim(c, kCpuFrequencyMethod, pmu ? "pmu_cycles" : "calibrated_dependent_chain");
  SetClaim(c, kCpuFrequencyBurstHz, burst);
  SetClaim(c, kCpuFrequencyAllCoreHz, all_core);
  SetClaim(c, kCpuFrequencyPerCore, per_core);
  if (invariant_tsc && tsc_seconds > 0)
    SetClaim(c, kCpuFrequencyTscHz, static_cast<double>(tsc_ticks) / tsc_seconds);
  Result<NominalFrequency> nominal = ReadNominalFrequency(ctx);
  if (nominal.ok()) {
    SetClaim(c, kCpuFrequencyNominalHz, nominal->hz);
    SetClaim(c, kCpuFrequencyBurstToNominal, burst / nominal->hz);
    SetClaim(c, kCpuFrequencyAllCoreToNominal, all_core / nominal->hz);
    const double floor = ctx.options.Double("below_nominal_fraction");
    if (burst < floor * nominal->hz) {
      Finding f;
      f.code = "frequency_below_nominal";
      f.message = "measured burst frequency is below the nominal frequency the platform claims";
      f.details = {{"measured_hz", burst},
                   {"nominal_hz", nominal->hz},
                   {"nominal_source", nominal->source},
                   {"ratio", burst / nominal->hz}};
      result.findings.push_back(std::move(f));
    }
  }

  auto& k = result.conditions;
  k["method_detail"] =
      pmu ? pmu_->EventName() + " per chunk over CLOCK_MONOTONIC_RAW"
          : std::string(DependentChainName()) + " chain, 1 cycle per op, over CLOCK_MONOTONIC_RAW";
  k["pmu"] = pmu_detail;
  k["cpus"] = *cpus;
  k["ops_per_block"] = kChainOpsPerBlock;
  k["chunk_blocks"] = chunk_blocks;
  k["chunk_seconds"] = chunk_seconds;
  k["sample_seconds"] = ctx.options.Double("sample_seconds");
  k["all_core_seconds"] = ctx.options.Double("all_core_seconds");
  k["statistic"] = "typical chunk rate of each window: median of the densest 2 % band of chunk rates";
  k["tsc_invariant"] = invariant_tsc;
  k["nominal_source"] = nominal.ok() ? nominal->source : nominal.status().message();
  return result;
}

}  // namespace resmeter
