// CpuAvailabilitySampler: continuous, low-duty micro-challenges that measure
// the fraction of wall time the vCPUs really deliver, for the usage ledger
// (the bill must not rest on the steal figure the host writes).
//
// A round: one thread per allowed vCPU, pinned to it (nice -20 when
// permitted), all started together; each runs the calibrated dependent chain
// (meters/cpu/cpu_work.h) for a warm-up, then for a measured window, and the
// figures of cpu.availability (ComputeAvailability,
// meters/cpu/cpu_availability_meter.h) are computed for the window: work done
// over (typical chunk rate x entitled time), entitled = min(wall, thread CPU
// time + reported steal + the cgroup's throttled time). One round gives one
// sample per vCPU. Rounds start at random times (getrandom(2) draws the
// jitter, so a host cannot predict them) with a mean interval that keeps the
// sampler's CPU cost at `cpu_budget_ratio` of one core.
//
// Why rounds look like this (a quota is the hard case):
//  - a CFS bandwidth quota (host or guest cgroup, cpu.max) is a budget of
//    CPU time per period (100 ms by default) shared by all the group's CPUs;
//    it takes nothing from a group that uses less. Short spins at a low duty
//    cycle, one vCPU at a time, fit in the budget and would read 1.0 under a
//    quota of half the vCPUs. So a round spins every vCPU at once (demand =
//    all vCPUs) for whole quota periods.
//  - after an idle spell the group starts with a full budget, so the first
//    period of a round runs longer than the steady state (reading about
//    q + P/(4W) instead of q for quota q, period P, window W). The warm-up
//    (one period, 100 ms by default) spends that budget; only the window
//    after it (200 ms = two whole periods by default) is measured, in which
//    each period gives q x P whatever the phase: the estimate is q.
//  - host overcommit that deschedules the vCPU without reporting steal shows
//    as work missing from time the guest counted as running (N < R C).
// Limits: a quota whose period is longer than warm-up + window, or burst
// credits, are not seen by a round (it measures capacity over its window);
// a host that recognises the challenge pattern and serves it in full could
// still hide loss between rounds. See README "Measured availability".
//
// Threading: Start() starts one coordinator thread; each round starts and
// joins one pinned thread per vCPU. TakePeriod, Stats and Stop may be called
// from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "meters/cpu/cpu_availability_meter.h"
#include "meters/cpu/cpu_work.h"

namespace resmeter {

struct AvailabilitySamplerOptions {
  double warmup_seconds = 0.1;      // spin before the window: spends a quota's leftover budget
  double window_seconds = 0.2;      // measured part of a round (whole 100 ms quota periods)
  double chunk_seconds = 0.001;     // one timed chunk of the chain
  double cpu_budget_ratio = 0.005;  // target mean cost, in cores (the bench checks it)
  double interval_seconds = 0;      // mean time between rounds; 0: from the budget
  int nice = -20;                   // of the challenge threads, when permitted
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
};

// What one thread's challenge ran: the warm-up and the measured window.
struct ChallengeRuns {
  ChainRun warmup;
  ChainRun window;
};

// Runs warm-up then window on the calling thread with `source`; `between`
// (may be empty) runs between them (the round reads steal and cgroup
// counters there). Stops early when `stop` becomes true.
ChallengeRuns RunChallenge(const Env& env, const AvailabilitySamplerOptions& options, uint64_t chunk_blocks,
                           const std::atomic<bool>* stop, const ChainSource& source,
                           const std::function<void()>& between);

// The cpu.availability inputs of a challenge's measured window: the clock
// rate is the typical chunk rate (TypicalRate) of warm-up and window together.
ChallengeWindow WindowOfChallenge(const ChallengeRuns& runs, double steal_seconds, double throttled_seconds);

// Mean seconds between rounds: `configured` when positive, otherwise the
// interval at which rounds costing `round_cpu_seconds` use `budget_ratio`
// of one core; at least 0.5 s.
double MeanRoundIntervalSeconds(double round_cpu_seconds, double budget_ratio, double configured);

// A uniform draw in [0, 1) from the kernel's CSPRNG (getrandom(2)).
double SecureUniform();

// Samples gathered since the previous TakePeriod.
struct AvailabilityPeriodSamples {
  uint64_t samples = 0;          // vCPU windows measured (one per vCPU per round)
  double ratio_sum = 0;          // sum of their availability_ratio
  uint64_t vcpus = 0;            // vCPUs of the latest round (0: none yet)
  double sampler_cpu_ratio = 0;  // sampler CPU seconds / wall seconds since Start

  // Mean availability of the samples (0 without samples).
  double mean_ratio() const { return samples ? ratio_sum / static_cast<double>(samples) : 0; }
};

struct AvailabilitySamplerStats {
  uint64_t rounds = 0;
  uint64_t samples = 0;
  double cpu_seconds = 0;              // all sampler threads, coordinator included
  double wall_seconds = 0;             // since Start
  double cpu_ratio = 0;                // cpu_seconds / wall_seconds: the cost in cores
  double last_availability_ratio = 0;  // mean over the vCPUs of the latest round
  std::string last_error;              // of the latest failed round ("" when it succeeded)
};

class CpuAvailabilitySampler {
 public:
  CpuAvailabilitySampler(Env* env, AvailabilitySamplerOptions options);
  ~CpuAvailabilitySampler();  // Stop()
  CpuAvailabilitySampler(const CpuAvailabilitySampler&) = delete;
  CpuAvailabilitySampler& operator=(const CpuAvailabilitySampler&) = delete;

  // Calibrates the chain and starts the coordinator thread. NotSupported
  // without a calibrated chain on this architecture.
  Status Start();
  // Stops the coordinator (an ongoing round is abandoned). Idempotent.
  void Stop();
  // Runs one round now on the calling thread (tests, bench); its samples
  // count like the background ones. Error when no vCPU could be measured.
  Status RunRound();
  // Returns the samples since the previous call and starts a new period.
  AvailabilityPeriodSamples TakePeriod();
  AvailabilitySamplerStats Stats() const;

 private:
  void Loop();
  double RoundCpuEstimate() const;

  Env* env_;
  const AvailabilitySamplerOptions options_;
  uint64_t chunk_blocks_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  double start_mono_ = 0;
  double last_round_cpu_ = 0;  // CPU seconds of the latest round (0: none yet)
  AvailabilityPeriodSamples period_;
  AvailabilitySamplerStats stats_;
};

}  // namespace resmeter
