#include "meters/cpu/cpu_work.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <thread>

#include "meters/cpu/pmu.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace resmeter {

uint64_t RunDependentChain(uint64_t blocks) {
  uint64_t x = 0;
  uint64_t one = 1;
  for (uint64_t b = 0; b < blocks; ++b) {
#if defined(__x86_64__)
    asm volatile(".rept 64\n\tadd %1, %0\n\t.endr" : "+r"(x) : "r"(one));
#elif defined(__aarch64__)
    asm volatile(".rept 64\n\tadd %0, %0, %1\n\t.endr" : "+r"(x) : "r"(one));
#else
    for (int i = 0; i < 64; ++i) {
      x += one;
      asm volatile("" : "+r"(x));
    }
#endif
  }
  return x;
}

const char* DependentChainName() {
#if defined(__x86_64__)
  return "x86_64_dependent_add";
#elif defined(__aarch64__)
  return "aarch64_dependent_add";
#else
  return "generic_dependent_add";
#endif
}

bool DependentChainIsCalibrated() {
#if defined(__x86_64__) || defined(__aarch64__)
  return true;
#else
  return false;
#endif
}

uint64_t ReadTimestampCounter() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return 0;
#endif
}

double ThreadCpuSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Status PinCurrentThreadToCpu(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE)
    return Status::InvalidArgument("cpu " + std::to_string(cpu) + ": out of range");
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  if (rc != 0) return Status::FromErrno("pin to cpu " + std::to_string(cpu), rc);
  return Status::Ok();
}

Result<std::vector<int>> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return Status::FromErrno("sched_getaffinity", errno);
  std::vector<int> cpus;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &set)) cpus.push_back(i);
  }
  if (cpus.empty()) return Status::NotFound("sched_getaffinity: no allowed cpu");
  return cpus;
}

int TrySetThreadNice(int nice) {
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  setpriority(PRIO_PROCESS, static_cast<id_t>(tid), nice);  // failure leaves it unchanged
  errno = 0;
  int now = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  return errno == 0 ? now : 0;
}

uint64_t CalibrateChunkBlocks(const Env& env, double chunk_seconds) {
  uint64_t blocks = 1000;
  for (int round = 0; round < 20; ++round) {
    const double t0 = env.MonotonicSeconds();
    RunDependentChain(blocks);
    const double dt = env.MonotonicSeconds() - t0;
    if (dt >= chunk_seconds / 4) {
      const double scaled = static_cast<double>(blocks) * chunk_seconds / dt;
      return std::max<uint64_t>(100, static_cast<uint64_t>(scaled));
    }
    blocks *= 4;
  }
  return blocks;
}

double MedianOf(std::vector<double> values) {
  if (values.empty()) return 0;
  auto mid = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), mid, values.end());
  return *mid;
}

double TypicalRate(std::vector<double> rates, double band) {
  if (rates.empty()) return 0;
  std::sort(rates.begin(), rates.end());
  size_t best_lo = 0, best_hi = 0, hi = 0;
  for (size_t lo = 0; lo < rates.size(); ++lo) {
    hi = std::max(hi, lo);
    while (hi + 1 < rates.size() && rates[hi + 1] <= rates[lo] * (1 + band)) ++hi;
    if (hi - lo >= best_hi - best_lo) {  // >=: the faster of equally dense bands
      best_lo = lo;
      best_hi = hi;
    }
  }
  // Median of the band.
  const size_t n = best_hi - best_lo + 1;
  return n % 2 ? rates[best_lo + n / 2] : 0.5 * (rates[best_lo + n / 2 - 1] + rates[best_lo + n / 2]);
}

namespace {

// The chunk loop behind both RunChainFor overloads.
ChainRun RunChainOn(const Env& env, double seconds, uint64_t chunk_blocks, const std::atomic<bool>* stop,
                    CycleCounter* counter, const ChainSource& source) {
  ChainRun run;
  std::vector<double> rates;
  rates.reserve(static_cast<size_t>(seconds * 4000) + 16);
  const uint64_t chunk_ops = chunk_blocks * kChainOpsPerBlock;
  const double cpu0 = source.thread_cpu_seconds();
  const uint64_t tsc0 = ReadTimestampCounter();
  const double start = env.MonotonicSeconds();
  double now = start;
  while (now - start < seconds && !(stop && stop->load(std::memory_order_relaxed))) {
    if (counter && !counter->Start().ok()) counter = nullptr;
    const double t0 = env.MonotonicSeconds();
    source.run_blocks(chunk_blocks);
    now = env.MonotonicSeconds();
    double work = static_cast<double>(chunk_ops);
    if (counter) {
      Result<uint64_t> cycles = counter->Stop();
      if (cycles.ok()) {
        run.pmu_cycles += *cycles;
        work = static_cast<double>(*cycles);
      }
    }
    // The window ends at start + seconds, not at the end of the chunk that
    // crosses it: a thread throttled by a CFS quota when the window closes
    // finishes its chunk only after the throttled stretch, which would add
    // up to a quota period of idle wall time with one chunk's work. The
    // crossing chunk counts pro rata by time (exact while running freely,
    // off by less than one chunk's work otherwise).
    if (now - start <= seconds) {
      run.ops += chunk_ops;
    } else {
      const double inside = std::clamp((start + seconds - t0) / (now - t0), 0.0, 1.0);
      run.ops += static_cast<uint64_t>(std::llround(inside * static_cast<double>(chunk_ops)));
    }
    const double dt = now - t0;
    if (dt > 0) rates.push_back(work / dt);
  }
  run.span_seconds = now - start;
  run.wall_seconds = std::min(run.span_seconds, seconds);  // shorter only when stopped early
  run.cpu_seconds = source.thread_cpu_seconds() - cpu0;
  run.tsc_ticks = ReadTimestampCounter() - tsc0;
  run.chunks = rates.size();
  if (!rates.empty()) run.best_hz = *std::max_element(rates.begin(), rates.end());
  run.median_hz = MedianOf(rates);
  run.typical_hz = TypicalRate(rates);
  run.rates = std::move(rates);
  return run;
}

}  // namespace

const ChainSource& RealChainSource() {
  static const ChainSource kReal{[](uint64_t blocks) { RunDependentChain(blocks); },
                                 [] { return ThreadCpuSeconds(); }};
  return kReal;
}

ChainRun RunChainFor(const Env& env, double seconds, uint64_t chunk_blocks, const std::atomic<bool>* stop,
                     CycleCounter* counter) {
  return RunChainOn(env, seconds, chunk_blocks, stop, counter, RealChainSource());
}

ChainRun RunChainFor(const Env& env, double seconds, uint64_t chunk_blocks, const std::atomic<bool>* stop,
                     const ChainSource& source) {
  return RunChainOn(env, seconds, chunk_blocks, stop, nullptr, source);
}

void RunPinnedThreads(const std::vector<int>& cpus,
                      const std::function<void(size_t index, int cpu, const Status& pinned)>& body) {
  std::vector<std::thread> threads;
  threads.reserve(cpus.size());
  for (size_t i = 0; i < cpus.size(); ++i) {
    threads.emplace_back([i, &cpus, &body]() {
      Status pinned = PinCurrentThreadToCpu(cpus[i]);
      body(i, cpus[i], pinned);
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace resmeter
