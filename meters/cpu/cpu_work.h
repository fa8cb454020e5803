// CPU work: the calibrated dependent-operation chain and the thread pinning
// shared by cpu.frequency, cpu.throttling, cpu.availability and
// memory.bandwidth.
//
// The chain is a block of kChainOpsPerBlock integer adds, each depending on
// the previous one (`add reg, reg` in inline assembly on x86-64 and
// AArch64). Integer add has a latency of exactly one core cycle on every
// x86-64 and AArch64 core in service, and the loop counter runs on other ALUs
// in parallel, so one block costs kChainOpsPerBlock cycles: ops per second of
// wall time is the core clock in Hz while the thread runs. The chain is timed
// in short chunks (about chunk_seconds each) on CLOCK_MONOTONIC_RAW through
// Env. An interrupted or preempted chunk looks slower; timer jitter and
// frequency wobble spread the rest a few per cent either way, so the fastest
// chunk of a window overstates the clock (by 5 % on the build VM, against
// an imul chain timed in the same run). The clock rate of a window is
// therefore its typical chunk rate (TypicalRate: the middle of the densest
// band of chunk rates, the mode), which preempted chunks, scattered from 0
// up, do not move; the total work of a window divided by (typical rate x
// wall time) is the fraction of the window the thread really ran.
//
// Wall time comes from Env (CLOCK_MONOTONIC_RAW); the per-thread CPU clock
// and the TSC are read here directly, as Env has no per-thread clock.
//
// Threading: every function works on the calling thread only;
// RunPinnedThreads starts one thread per CPU and joins them all before
// returning.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "core/status.h"

namespace resmeter {

class CycleCounter;  // meters/cpu/pmu.h

// Dependent adds per block; one block costs this many core cycles.
inline constexpr uint64_t kChainOpsPerBlock = 64;

// Runs `blocks` blocks of the dependent add chain; returns a value derived
// from the chain so the work cannot be elided.
uint64_t RunDependentChain(uint64_t blocks);
// Names the chain implementation: "x86_64_dependent_add", "aarch64_dependent_add"
// or "generic_dependent_add" (cost per op assumed, not guaranteed, on the last).
const char* DependentChainName();
// True when the chain is the assembly one whose cost is one cycle per op.
bool DependentChainIsCalibrated();

// The time-stamp counter, or 0 on platforms without one.
uint64_t ReadTimestampCounter();
// Seconds of CPU time the calling thread has consumed (CLOCK_THREAD_CPUTIME_ID).
double ThreadCpuSeconds();

// Pins the calling thread to one CPU. PermissionDenied/InvalidArgument on failure.
Status PinCurrentThreadToCpu(int cpu);
// The CPUs the calling thread may run on (sched_getaffinity), ascending.
Result<std::vector<int>> AllowedCpus();
// Sets the calling thread's nice value; returns the value in effect afterwards
// (unchanged when not permitted).
int TrySetThreadNice(int nice);

// What one timed run of the chain did.
struct ChainRun {
  uint64_t ops = 0;           // dependent ops done inside the window (the last chunk pro rata)
  double wall_seconds = 0;    // the window: first chunk start to the deadline (or to the stop)
  double span_seconds = 0;    // first chunk start to last chunk end (the TSC's span)
  double cpu_seconds = 0;     // thread CPU time over span_seconds
  double best_hz = 0;         // fastest chunk: ops (or PMU cycles) per second (diagnostic)
  double median_hz = 0;       // median chunk rate
  double typical_hz = 0;      // TypicalRate of the chunk rates: the clock rate while running
  std::vector<double> rates;  // every chunk's rate, in run order
  uint64_t chunks = 0;
  uint64_t tsc_ticks = 0;   // time-stamp counter ticks over the run (0 without TSC)
  uint64_t pmu_cycles = 0;  // cycles counted by the PMU (0 without one)
};

// Finds how many blocks make one chunk of about `chunk_seconds` on this CPU.
uint64_t CalibrateChunkBlocks(const Env& env, double chunk_seconds);

// Runs the chain in chunks of `chunk_blocks` until `seconds` of wall time have
// passed (or `stop` becomes true). The window is exactly `seconds` long: the
// chunk running at its end counts in `ops` for the part of it inside. With a
// `counter` (a working PMU) chunk rates are counted cycles per second instead
// of ops per second.
ChainRun RunChainFor(const Env& env, double seconds, uint64_t chunk_blocks, const std::atomic<bool>* stop,
                     CycleCounter* counter = nullptr);

// What RunChainFor runs and reads besides Env's clock: the chain itself and
// the calling thread's CPU clock. Unit tests substitute a simulated vCPU (a
// fake Env whose clock the fake work advances, with quota gaps).
struct ChainSource {
  std::function<void(uint64_t blocks)> run_blocks;  // RunDependentChain
  std::function<double()> thread_cpu_seconds;       // ThreadCpuSeconds
};
// The real chain and CLOCK_THREAD_CPUTIME_ID.
const ChainSource& RealChainSource();
// RunChainFor on `source` instead of the real chain (no PMU counter).
ChainRun RunChainFor(const Env& env, double seconds, uint64_t chunk_blocks, const std::atomic<bool>* stop,
                     const ChainSource& source);

// Starts one thread per entry of `cpus`, pins it (a pin failure is passed to
// the body as a non-OK status), runs body(index, cpu, pin_status) and joins all.
void RunPinnedThreads(const std::vector<int>& cpus,
                      const std::function<void(size_t index, int cpu, const Status& pinned)>& body);

// Returns the median of the values (0 for none); the vector is reordered.
double MedianOf(std::vector<double> values);

// Relative width of the band TypicalRate looks for: 2 % holds the chunk
// noise seen on VMs (about +-1 %) and excludes most preempted chunks.
inline constexpr double kTypicalRateBand = 0.02;
// The typical value of `rates`: the median of the densest band [x, x (1 +
// band)] (most values; the faster band on a tie). Robust both to slow
// outliers (preempted chunks, even a majority of them if they scatter) and
// to the few fast ones the maximum would pick. 0 for none.
double TypicalRate(std::vector<double> rates, double band = kTypicalRateBand);

}  // namespace resmeter
