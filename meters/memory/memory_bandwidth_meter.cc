#include "meters/memory/memory_bandwidth_meter.h"

#include <algorithm>
#include <barrier>
#include <cmath>

#include "meters/memory/cache_info.h"
#include "meters/cpu/cpu_work.h"
#include "meters/memory/mem_buffer.h"

namespace resmeter {
namespace {

constexpr double kScalar = 3.0;

// The four STREAM kernels over [begin, end); not sanitizer-instrumented, as
// a check per element would be measured as bandwidth.
__attribute__((no_sanitize("address", "undefined"))) void RunKernel(int kernel, double* __restrict a, double* __restrict b, double* __restrict c, size_t begin,
               size_t end) {
  switch (kernel) {
    case 0:
      for (size_t j = begin; j < end; ++j) c[j] = a[j];
      break;
    case 1:
      for (size_t j = begin; j < end; ++j) b[j] = kScalar * c[j];
      break;
    case 2:
      for (size_t j = begin; j < end; ++j) c[j] = a[j] + b[j];
      break;
    default:
      for (size_t j = begin; j < end; ++j) a[j] = b[j] + kScalar * c[j];
      break;
  }
}

// Checks every array against the scalar recurrence of `reps` repetitions.
bool ValidArrays(const double* a, const double* b, const double* c, size_t n, int reps) {
  double ea = 1, eb = 2, ec = 0;
  for (int r = 0; r < reps; ++r) {
    ec = ea;
    eb = kScalar * ec;
    ec = ea + eb;
    ea = eb + kScalar * ec;
  }
  const size_t step = std::max<size_t>(1, n / 4096);
  for (size_t j = 0; j < n; j += step) {
    if (std::fabs(a[j] - ea) > 1e-8 * std::fabs(ea) || std::fabs(b[j] - eb) > 1e-8 * std::fabs(eb) ||
        std::fabs(c[j] - ec) > 1e-8 * std::fabs(ec)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<OptionSpec> MemoryBandwidthOptions() {
  return {
      {"array_bytes", OptionType::kInt, 0, 0, 1ll << 38, {}, "bytes per array; 0 = 4x the last-level cache (at least 64 MiB)"},
      {"repetitions", OptionType::kInt, 5, 2, 1000, {}, "repetitions of the four kernels; the best counts"},
      {"threads", OptionType::kInt, 0, 0, 4096, {}, "threads, one per allowed CPU in order; 0 = all allowed CPUs"},
      {"huge_pages", OptionType::kBool, true, {}, {}, {}, "advise transparent huge pages for the arrays"},
  };
}

MeterResult MemoryBandwidthMeter::Measure(MeterContext& ctx) {
  Result<std::vector<int>> allowed = AllowedCpus();
  if (!allowed.ok()) return MeterResult::Failed(allowed.status().message());
  std::vector<int> cpus = *allowed;
  if (int64_t t = ctx.options.Int("threads"); t > 0 && static_cast<size_t>(t) < cpus.size()) cpus.resize(static_cast<size_t>(t));
  Result<std::vector<CacheLevelInfo>> caches = ReadCpuCaches(ctx, cpus.front());
  const uint64_t llc = caches.ok() ? LastLevelCacheBytes(*caches) : 0;
  uint64_t array_bytes = static_cast<uint64_t>(ctx.options.Int("array_bytes"));
  if (array_bytes == 0) array_bytes = std::max<uint64_t>(4 * llc, uint64_t{64} << 20);
  const size_t n = array_bytes / sizeof(double);
  const int reps = static_cast<int>(ctx.options.Int("repetitions"));
  const bool huge = ctx.options.Bool("huge_pages");

  Result<MemBuffer> ba = MemBuffer::Create(n * sizeof(double), huge);
  Result<MemBuffer> bb = MemBuffer::Create(n * sizeof(double), huge);
  Result<MemBuffer> bc = MemBuffer::Create(n * sizeof(double), huge);
  if (!ba.ok() || !bb.ok() || !bc.ok()) return MeterResult::Failed("cannot map three arrays of " + std::to_string(array_bytes) + " bytes");
  double* a = static_cast<double*>(ba->data());
  double* b = static_cast<double*>(bb->data());
  double* c = static_cast<double*>(bc->data());

  const size_t threads = cpus.size();
  // start[t][rep*4+k], end[t][rep*4+k]: per-thread kernel timestamps.
  std::vector<std::vector<double>> start(threads, std::vector<double>(static_cast<size_t>(reps) * 4));
  std::vector<std::vector<double>> end = start;
  std::vector<std::string> errors(threads);
  std::barrier sync(static_cast<std::ptrdiff_t>(threads));
  std::atomic<bool> stop{false};
  ctx.Progress("stream over 3 x " + std::to_string(array_bytes) + " bytes, " + std::to_string(threads) + " threads");
  RunPinnedThreads(cpus, [&](size_t t, int, const Status& pinned) {
    if (!pinned.ok()) errors[t] = pinned.message();
    const size_t lo = n * t / threads, hi = n * (t + 1) / threads;
    for (size_t j = lo; j < hi; ++j) {  // first touch by the owning thread
      a[j] = 1;
      b[j] = 2;
      c[j] = 0;
    }
    for (int r = 0; r < reps; ++r) {
      for (int k = 0; k < 4; ++k) {
        sync.arrive_and_wait();
        if (t == 0 && ctx.cancelled()) stop = true;
        sync.arrive_and_wait();
        if (stop) return;
        const size_t slot = static_cast<size_t>(r) * 4 + static_cast<size_t>(k);
        start[t][slot] = ctx.env->MonotonicSeconds();
        RunKernel(k, a, b, c, lo, hi);
        end[t][slot] = ctx.env->MonotonicSeconds();
      }
    }
  });
  if (stop || ctx.cancelled()) return MeterResult::Failed("cancelled");
  for (size_t t = 0; t < threads; ++t) {
    if (!errors[t].empty()) return MeterResult::Failed("cpu " + std::to_string(cpus[t]) + ": " + errors[t]);
  }
  if (!ValidArrays(a, b, c, n, reps)) return MeterResult::Failed("stream arrays hold wrong values after the kernels");

  MeterResult result = MeterResult::Ok();
  auto& cl = result.claims;
  cl["method"] = "stream_kernels";
  for (int k = 0; k < 4; ++k) {
    double best = 0, sum = 0;
    for (int r = 0; r < reps; ++r) {
      const size_t slot = static_cast<size_t>(r) * 4 + static_cast<size_t>(k);
      double s0 = start[0][slot], e0 = end[0][slot];
      for (size_t t = 1; t < threads; ++t) {
        s0 = std::min(s0, start[t][slot]);
        e0 = std::max(e0, end[t][slot]);
      }
      const double dt = e0 - s0;
      sum += dt;
      if (r == 0 || dt < best) best = dt;
    }
    const double bytes = kStreamBytesPerElement[k] * static_cast<double>(n);
    const std::string name = kStreamKernelNames[k];
    cl[name + "_bytes_per_second"] = bytes / best;
    cl[name + "_mean_bytes_per_second"] = bytes / (sum / reps);
  }
  auto& k = result.conditions;
  k["array_bytes"] = n * sizeof(double);
  k["elements"] = n;
  k["threads"] = threads;
  k["cpus"] = cpus;
  k["repetitions"] = reps;
  k["last_level_cache_bytes"] = llc;
  k["byte_counting"] = "STREAM: copy/scale 16 B, add/triad 24 B per element, no write-allocate";
  k["statistic"] = "best repetition; a kernel's time spans first thread start to last thread end";
  k["huge_page_bytes"] = ba->HugePageBytes(*ctx.env, ctx.proc_root) + bb->HugePageBytes(*ctx.env, ctx.proc_root) +
                         bc->HugePageBytes(*ctx.env, ctx.proc_root);
  return result;
}

}  // namespace resmeter
