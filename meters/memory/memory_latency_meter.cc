#include "meters/memory/memory_latency_meter.h"

#include <algorithm>

#include "meters/memory/cache_info.h"
#include "meters/cpu/cpu_work.h"
#include "meters/memory/mem_buffer.h"
#include "meters/memory/pointer_chase.h"

namespace resmeter {

std::vector<OptionSpec> MemoryLatencyOptions() {
  return {
      {"buffer_bytes", OptionType::kInt, 0, 0, 1ll << 38, {}, "chase buffer; 0 = 8x the last-level cache (at least 256 MiB)"},
      {"runs", OptionType::kInt, 200, 5, 100000, {}, "timed runs of about 1 ms each"},
      {"huge_pages", OptionType::kBool, true, {}, {}, {}, "advise transparent huge pages for the buffer"},
  };
}

MeterResult MemoryLatencyMeter::Measure(MeterContext& ctx) {
  Result<std::vector<int>> cpus = AllowedCpus();
  if (!cpus.ok()) return MeterResult::Failed(cpus.status().message());
  const int cpu = cpus->front();
  Result<std::vector<CacheLevelInfo>> caches = ReadCpuCaches(ctx, cpu);
  const uint64_t llc = caches.ok() ? LastLevelCacheBytes(*caches) : 0;
  uint64_t stride = 64;
  if (caches.ok() && !caches->empty() && caches->front().line_bytes >= sizeof(void*)) stride = caches->front().line_bytes;
  uint64_t bytes = static_cast<uint64_t>(ctx.options.Int("buffer_bytes"));
  if (bytes == 0) bytes = std::max<uint64_t>(8 * llc, uint64_t{256} << 20);
  bytes = bytes / stride * stride;
  Result<MemBuffer> buf = MemBuffer::Create(bytes, ctx.options.Bool("huge_pages"));
  if (!buf.ok()) return MeterResult::Failed(buf.status().message());
  const int runs = static_cast<int>(ctx.options.Int("runs"));

  std::vector<double> per_run;
  uint64_t loads = 0;
  Status pin_status = Status::Ok();
  ctx.Progress("chase over " + std::to_string(bytes) + " bytes");
  RunPinnedThreads({cpu}, [&](size_t, int, const Status& pinned) {
    pin_status = pinned;
    BuildRandomCycle(buf->data(), bytes, stride, 0x1a7e);
    void* cursor = buf->data();
    const double estimate = TimeChase(*ctx.env, &cursor, 20000, 100000, 1);
    loads = std::max<uint64_t>(1000, static_cast<uint64_t>(0.001 / std::max(estimate, 1e-10)));
    for (int r = 0; r < runs && !ctx.cancelled(); ++r) per_run.push_back(TimeChase(*ctx.env, &cursor, loads, 0, 1));
  });
  if (ctx.cancelled()) return MeterResult::Failed("cancelled");
  if (!pin_status.ok()) return MeterResult::Failed(pin_status.message());
  if (per_run.empty()) return MeterResult::Failed("no timed run completed");

  MeterResult result = MeterResult::Ok();
  result.claims["method"] = "random_pointer_chase";
  result.claims["latency_seconds"] = *std::min_element(per_run.begin(), per_run.end());
  result.claims["median_latency_seconds"] = MedianOf(per_run);
  auto& k = result.conditions;
  k["buffer_bytes"] = bytes;
  k["last_level_cache_bytes"] = llc;
  k["buffer_to_llc_ratio"] = llc > 0 ? static_cast<double>(bytes) / static_cast<double>(llc) : 0;
  k["stride_bytes"] = stride;
  k["cpu"] = cpu;
  k["runs"] = per_run.size();
  k["loads_per_run"] = loads;
  k["huge_pages_advised"] = ctx.options.Bool("huge_pages");
  k["huge_page_bytes"] = buf->HugePageBytes(*ctx.env, ctx.proc_root);
  k["statistic"] = "fastest and median of the timed runs";
  return result;
}

}  // namespace resmeter
