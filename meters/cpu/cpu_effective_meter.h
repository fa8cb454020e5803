// cpu.effective: how many vCPUs the machine really delivers, by challenge:
// the parallel speed-up of a CPU-bound workload on all vCPUs at once against
// one vCPU alone. "8 vCPUs" that are 8 hyper-threads on 4 cores, or that a
// host (or guest cgroup) quota caps at 4 CPUs, read as about 4, whatever the
// platform's CPU count says.
//
// Workload: eight independent dependent-add chains interleaved
// (RunIndependentChains), so that one thread keeps a core's integer ALUs
// busy (4 to 6 adds per cycle on current x86-64 and AArch64 cores; 6.0 on
// the build VM's AMD EPYC, whose two vCPUs each kept that rate together). A
// single dependency chain would not do: it uses one ALU a cycle, so two
// hyper-threads of one core would each run it at full speed and the core
// would count twice.
//
// A round: (1) one thread, pinned to one vCPU (a different one each round),
// runs the workload in ~1 ms chunks for `single_seconds`; its typical chunk
// rate (TypicalRate, meters/cpu/cpu_work.h) is what one vCPU does per second
// while it runs: a quota or a host that takes the vCPU away only removes
// chunks or slows some of them, not the typical one. (2) One pinned thread
// per vCPU runs it together, after a `warmup_seconds` spin that spends an
// idle quota's leftover budget, for `all_seconds`. Each thread's work over
// (the one-vCPU rate x its entitled time) is the share of a vCPU it got,
// with entitled time as in cpu.availability: min(wall, its CPU time + the
// steal on its vCPU + its share of the cgroup's throttled time). So a quota
// (throttled time) and a host that withholds the vCPU (steal, or CPU time
// that did no work) count, while other processes of the same guest that
// took the vCPU (measured 0.36 instead of 1.9 on the shared build VM
// before this) do not. The shares summed are the round's effective vCPUs.
// effective_vcpus = median over `rounds` rounds. Turbo makes one core run
// faster alone than all together, so a machine whose vCPUs are all real
// reads a little under its count (all-core / single-core clock).
// Finding `effective_vcpus_low` when effective_vcpus < min_effective_ratio x
// the vCPUs this process may run on.
//
// Threading: Measure() starts and joins pinned threads; nothing is shared.
#pragma once

#include <cstdint>
#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"

namespace resmeter {

// Adds per block of RunIndependentChains.
inline constexpr uint64_t kIndependentOpsPerBlock = 64;
// Runs `blocks` blocks of eight interleaved independent add chains; returns a
// value derived from them so the work cannot be elided.
uint64_t RunIndependentChains(uint64_t blocks);

// One round's inputs: the one-vCPU rate and, per thread of the all-vCPU
// phase, its work, wall time, CPU time and the steal on its vCPU, and the
// cgroup's throttled time over the phase.
struct ParallelRound {
  // One vCPU alone: work over its thread CPU time, so the speed-up compares
  // mean rates on both sides (interrupts and other per-second costs included
  // in each), and a quota or a busy guest, which take time, not speed, leaves
  // this reference as it is.
  double single_ops_per_second = 0;
  std::vector<double> all_ops;
  std::vector<double> all_wall_seconds;
  std::vector<double> all_cpu_seconds;    // empty: taken as the wall time
  std::vector<double> all_steal_seconds;  // empty: none
  double throttled_seconds = 0;
  std::vector<double> all_typical_ops_per_second;  // each thread's typical chunk rate while all run
  double single_typical_ops_per_second = 0;        // typical chunk rate of one vCPU alone
};
// Sum over threads of cpu.availability's ratio with the single rate as the
// clock (0 when undefined).
double EffectiveVcpus(const ParallelRound& round);
// Mean over threads of the typical chunk rate while all run, over the single
// vCPU's typical chunk rate: how fast a vCPU runs when it runs, apart from
// how often it runs (0 when undefined). A quota lowers effective_vcpus but
// not this.
double ConcurrentSpeedRatio(const ParallelRound& round);

class CpuEffectiveMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;
};

std::vector<OptionSpec> CpuEffectiveOptions();

}  // namespace resmeter
