#include "meters/memory/cache_hierarchy_meter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "claims/memory_claim_specs.h"
#include "meters/cpu/cpu_claims.h"
#include "meters/cpu/cpu_work.h"
#include "meters/memory/mem_buffer.h"
#include "meters/memory/pointer_chase.h"

namespace resmeter {
namespace {
// Length of one timed run of the chase.
constexpr double kRunSeconds = 0.001;
// Default upper end of the curve: 4x a 128 MiB LLC; larger needs max_bytes.
constexpr uint64_t kDefaultMaxCurveBytes = uint64_t{512} << 20;

// "a factor of 2" for 1 octave, "a factor of 2.83" for 1.5.
std::string FormatOctaves(double octaves) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "a factor of %.3g", std::exp2(octaves));
  return buf;
}
}  // namespace

std::vector<OptionSpec> CacheHierarchyOptions() {
  return {
      {"min_bytes", OptionType::kInt, 4096, 1024, 1 << 20, {}, "smallest buffer of the curve"},
      {"max_bytes",
       OptionType::kInt,
       0,
       0,
       1ll << 36,
       {},
       "largest buffer; 0 = 4x the last-level cache (64 MiB to 512 MiB)"},
      {"steps_per_octave", OptionType::kInt, 2, 1, 8, {}, "buffer sizes per doubling"},
      {"seconds_per_size", OptionType::kDouble, 0.05, 0.001, 5, {}, "timed chase per size, in runs of 1 ms"},
      {"repetitions",
       OptionType::kInt,
       5,
       1,
       1000,
       {},
       "at least this many timed runs per size; the fastest counts"},
      {"huge_pages", OptionType::kBool, true, {}, {}, {}, "advise transparent huge pages for the buffer"},
      {"mismatch_octaves",
       OptionType::kDouble,
       1.0,
       0,
       10,
       {},
       "finding when measured and reported sizes differ by more than this many powers of two"},
  };
}

std::vector<uint64_t> CurveSizes(uint64_t min_bytes, uint64_t max_bytes, int steps_per_octave,
                                 uint64_t stride) {
  std::vector<uint64_t> out;
  for (int k = 0;; ++k) {
    const double exact =
        static_cast<double>(min_bytes) * std::exp2(static_cast<double>(k) / steps_per_octave);
    uint64_t size = static_cast<uint64_t>(std::llround(exact / static_cast<double>(stride))) * stride;
    size = std::max(size, 2 * stride);
    if (out.empty() || size > out.back()) out.push_back(size);
    if (size >= max_bytes) break;
  }
  return out;
}

bool RunsInVirtualMachine(const MeterContext& ctx) {
  Result<std::string> cpuinfo = ctx.env->ReadFile(ctx.Proc("cpuinfo"));
  return cpuinfo.ok() && CpuinfoHasFlag(*cpuinfo, "hypervisor");
}

nlohmann::json CompareLevels(const std::vector<Plateau>& plateaus,
                             const std::vector<CacheLevelInfo>& reported, double mismatch_octaves,
                             bool llc_shared_with_unseen_tenants, std::vector<Finding>* findings) {
  const uint64_t llc = reported.empty() ? 0 : reported.back().size_bytes;
  std::vector<Plateau> levels = plateaus;
  // The last plateau is main memory when it reaches twice the LLC: no cache holds that.
  if (!levels.empty() && llc > 0 && levels.back().last_size_bytes >= 2 * llc) levels.pop_back();
  // In a VM the shared last level, crowded by unseen tenants, fades into
  // main memory over several octaves (EPYC build VM: the L3 knee at 3-8 MiB
  // of 32 MiB reported, then 88-145 ns from 11 to 64 MiB), and noise may cut
  // that slope into more than one plateau: a level-count finding about once
  // in ten full probes. Extra plateaus past the reported levels are that
  // slope, one level: the first of them gives its size (where the working
  // set stops fitting). More levels than reported favours no provider, so
  // nothing is hidden by merging.
  size_t merged_plateaus = 0;
  if (llc_shared_with_unseen_tenants && !reported.empty() && levels.size() > reported.size()) {
    merged_plateaus = levels.size() - reported.size() + 1;
    Plateau& last_level = levels[reported.size() - 1];
    last_level.last_size_bytes = levels.back().last_size_bytes;
    for (size_t i = reported.size(); i < levels.size(); ++i) last_level.points += levels[i].points;
    levels.resize(reported.size());
  }
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < levels.size(); ++i) {
    nlohmann::json j = {{"level", i + 1},
                        {"measured_size_bytes", levels[i].capacity_bytes},
                        {"latency_seconds", levels[i].latency_seconds}};
    if (i < reported.size()) {
      const double diff = std::log2(static_cast<double>(levels[i].capacity_bytes) /
                                    static_cast<double>(reported[i].size_bytes));
      j["reported_size_bytes"] = reported[i].size_bytes;
      j["size_ratio"] = std::exp2(diff);
      // In a VM the last level is shared with tenants the guest cannot see:
      // their lines crowd ours out, so a smaller effective LLC is what this
      // guest gets, not a sign of a lie (the host sets CPUID anyway). It stays
      // in the claims (size_ratio) without a finding.
      const bool shared_llc_below = llc_shared_with_unseen_tenants && i + 1 == reported.size() && diff < 0;
      if (shared_llc_below) j["shared_with_unseen_tenants"] = true;
      if (merged_plateaus > 0 && i + 1 == levels.size()) j["merged_plateaus"] = merged_plateaus;
      if (std::fabs(diff) > mismatch_octaves + 1e-9 && !shared_llc_below) {
        Finding f;
        f.code = "cache_size_mismatch";
        f.message = "measured L" + std::to_string(i + 1) +
                    " size differs from the reported one by more than " + FormatOctaves(mismatch_octaves);
        f.details = {{"level", i + 1},
                     {"measured_bytes", levels[i].capacity_bytes},
                     {"reported_bytes", reported[i].size_bytes}};
        findings->push_back(std::move(f));
      }
    }
    out.push_back(std::move(j));
  }
  // In a VM the shared last level may be crowded out so far that the curve
  // shows no plateau for it at all: marked like a smaller one, not a finding.
  if (llc_shared_with_unseen_tenants && levels.size() + 1 == reported.size()) {
    out.push_back({{"level", reported.size()},
                   {"reported_size_bytes", reported.back().size_bytes},
                   {"measured", false},
                   {"shared_with_unseen_tenants", true}});
    return out;
  }
  if (levels.size() != reported.size()) {
    Finding f;
    f.code = "cache_level_count_mismatch";
    f.message = "the latency curve shows " + std::to_string(levels.size()) +
                " cache level(s), the platform reports " + std::to_string(reported.size());
    f.details = {{"measured_levels", levels.size()}, {"reported_levels", reported.size()}};
    findings->push_back(std::move(f));
  }
  return out;
}

MeterResult CacheHierarchyMeter::Measure(MeterContext& ctx) {
  Result<std::vector<int>> cpus = AllowedCpus();
  if (!cpus.ok()) return MeterResult::Failed(cpus.status().message());
  const int cpu = cpus->front();
  Result<ReportedCaches> caches = ReportedDataCaches(ctx, cpu);
  std::vector<CacheLevelInfo> reported = caches.ok() ? caches->levels : std::vector<CacheLevelInfo>{};
  const uint64_t llc = reported.empty() ? 0 : reported.back().size_bytes;
  uint64_t stride = 64;
  if (!reported.empty() && reported.front().line_bytes >= sizeof(void*)) stride = reported.front().line_bytes;

  uint64_t max_bytes = static_cast<uint64_t>(ctx.options.Int("max_bytes"));
  // A host may report an absurd LLC (CPUID of a VM said 508 MB per core);
  // the default curve stops at kDefaultMaxCurveBytes whatever it claims.
  if (max_bytes == 0) max_bytes = std::clamp<uint64_t>(4 * llc, uint64_t{64} << 20, kDefaultMaxCurveBytes);
  const int steps = static_cast<int>(ctx.options.Int("steps_per_octave"));
  const std::vector<uint64_t> sizes =
      CurveSizes(static_cast<uint64_t>(ctx.options.Int("min_bytes")), max_bytes, steps, stride);
  Result<MemBuffer> buf = MemBuffer::Create(sizes.back(), ctx.options.Bool("huge_pages"));
  if (!buf.ok()) return MeterResult::Failed(buf.status().message());

  const double per_size = ctx.options.Double("seconds_per_size");
  const int reps = static_cast<int>(ctx.options.Int("repetitions"));
  std::vector<CurvePoint> curve;
  Status pin_status = Status::Ok();
  RunPinnedThreads({cpu}, [&](size_t, int, const Status& pinned) {
    pin_status = pinned;
    for (uint64_t size : sizes) {
      if (ctx.cancelled()) return;
      ctx.Progress("chase over " + std::to_string(size) + " bytes");
      BuildRandomCycle(buf->data(), size, stride, 0x5eed + size);
      const uint64_t slots = size / stride;
      // Warm up (two passes over small buffers), estimate, then many short
      // timed runs: a run hit by preemption or a neighbour's cache traffic is
      // slower, so the fastest is the level's latency.
      void* cursor = buf->data();
      const double estimate = TimeChase(*ctx.env, &cursor, 10000, std::min<uint64_t>(2 * slots, 200000), 3);
      const uint64_t loads =
          std::max<uint64_t>(2000, static_cast<uint64_t>(kRunSeconds / std::max(estimate, 1e-10)));
      const int runs = std::max(reps, static_cast<int>(per_size / kRunSeconds));
      curve.push_back({size, TimeChase(*ctx.env, &cursor, loads, 0, runs)});
    }
  });
  if (ctx.cancelled()) return MeterResult::Failed("cancelled");
  if (!pin_status.ok()) return MeterResult::Failed(pin_status.message());

  MeterResult result = MeterResult::Ok();
  PlateauOptions popts;
  popts.min_points =
      static_cast<size_t>(std::max(2L, std::lround(1.5 * steps)));  // a level spans 1.5 octaves at least
  const std::vector<Plateau> plateaus = DetectPlateaus(curve, popts);
  auto& c = result.claims;
  SetClaim(c, kCacheMethod, "random_pointer_chase");
  const bool in_vm = RunsInVirtualMachine(ctx);
  SetClaim(
      c, kCacheLevels,
      CompareLevels(plateaus, reported, ctx.options.Double("mismatch_octaves"), in_vm, &result.findings));
  if (!plateaus.empty() && llc > 0 && plateaus.back().last_size_bytes >= 2 * llc) {
    SetClaim(c, kCacheMemoryLatencySeconds, plateaus.back().latency_seconds);
  }
  nlohmann::json jcurve = nlohmann::json::array();
  for (const CurvePoint& p : curve)
    jcurve.push_back({{"size_bytes", p.size_bytes}, {"latency_seconds", p.latency_seconds}});
  SetClaim(c, kCacheLatencyCurve, jcurve);

  auto& k = result.conditions;
  k["cpu"] = cpu;
  k["stride_bytes"] = stride;
  k["min_bytes"] = sizes.front();
  k["max_bytes"] = sizes.back();
  k["steps_per_octave"] = steps;
  k["seconds_per_size"] = per_size;
  k["repetitions"] = reps;
  k["run_seconds"] = kRunSeconds;
  k["statistic"] = "fastest 1 ms run per size; plateaus by 3-point median and flat-step runs";
  k["plateau_min_points"] = popts.min_points;
  k["huge_page_bytes"] = buf->HugePageBytes(*ctx.env, ctx.proc_root);
  k["reported_source"] = caches.ok() ? caches->source : caches.status().message();
  nlohmann::json rep = nlohmann::json::array();
  for (const CacheLevelInfo& l : reported)
    rep.push_back({{"level", l.level}, {"type", l.type}, {"size_bytes", l.size_bytes}});
  k["reported_levels"] = rep;
  k["llc_shared_with_unseen_tenants"] =
      in_vm ? "yes: /proc/cpuinfo has the hypervisor flag; a last level measured below the reported size is "
              "not a finding"
            : "no";
  return result;
}

}  // namespace resmeter
