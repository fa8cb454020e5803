// cpu.availability: the fraction of wall time each vCPU really ran a
// challenge, to catch a CPU quota or an overcommitted host even when the
// guest sees no steal time.
//
// How it works: one thread per allowed vCPU, pinned, runs the calibrated
// dependent-add chain (meters/cpu/cpu_work.h) in ~1 ms chunks, a warm-up and
// then `windows` back-to-back windows W (5 x 1 s by default). Each thread
// calibrates itself during the run: its typical chunk rate (TypicalRate,
// the densest band of chunk rates; the fastest chunk read 5 % high and so
// availability 5 % low) is its clock rate R while it actually runs, so no
// frequency figure from elsewhere is needed and turbo or sag cancel out.
// With N the work done in a window,
//   wall_availability = N / (R x W)
// is the plain fraction of the window the thread ran. On a shared guest it
// also drops when other processes of the same guest run (a compiler, say),
// which is not the host's doing. So the meter subtracts exactly that part:
// the thread's entitled time is
//   E = min(W, C + S + T)
// with C its CPU time (CLOCK_THREAD_CPUTIME_ID: when the guest scheduler ran
// it), S the steal the host reported on its vCPU (/proc/stat) and T its share
// of the time its cgroup was throttled by a CFS quota (cpu.stat, own cgroup
// and ancestors; meters/cpu/cgroup_cpu.h). W - E is then time the guest gave to
// its other tasks, and
//   availability = N / (R x E)
// is what the vCPU delivered of the time this process was entitled to: a
// guest cgroup quota (C and T both ~W/2), reported steal (S) and a host that
// deschedules the vCPU silently (C ~ W, N ~ R W/2) all lower it; competition
// from other guest tasks does not. A window's total = mean over vCPUs; the
// claim is the mean over windows with a Student-t 95 % interval from their
// spread, and cpu_availability_low fires only when the whole interval lies
// below min_availability_ratio: one window that lost the CPU to a passing
// host hiccup widens the interval instead of raising a false alarm, while a
// quota (every window low) still does. Reported beside
// it: wall_availability, cpu_time_ratio (C/W), hidden_loss_ratio
// (1 - N/(R C), time the guest counted as running that did no work) and
// guest_contention_ratio ((W - E)/W).
// The challenge threads also ask for nice -20 (option `nice`) so that, when
// permitted, they lose little time to other guest tasks in the first place.
//
// Threading: Measure() starts one pinned thread per vCPU and joins them.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"

namespace resmeter {

class CpuAvailabilityMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;
};

// The options of cpu.availability, for its registry row.
std::vector<OptionSpec> CpuAvailabilityOptions();

// Steal ticks (column 8) of each "cpuN" line of /proc/stat, keyed by N.
std::map<int, uint64_t> StealTicksByCpu(std::string_view proc_stat);

// What one challenge thread saw over its window.
struct ChallengeWindow {
  double work_ops = 0;           // N
  double clock_hz = 0;           // R, fastest chunk rate
  double wall_seconds = 0;       // W
  double cpu_seconds = 0;        // C
  double steal_seconds = 0;      // S
  double throttled_seconds = 0;  // T
};
struct AvailabilityFigures {
  double availability_ratio = 0;       // N / (R E)
  double wall_availability_ratio = 0;  // N / (R W)
  double cpu_time_ratio = 0;           // C / W
  double hidden_loss_ratio = 0;        // 1 - N / (R C), at least 0
  double guest_contention_ratio = 0;   // (W - E) / W
};
// Computes the figures above for one thread (see the header comment).
AvailabilityFigures ComputeAvailability(const ChallengeWindow& w);

// A mean with its two-sided 95 % Student-t confidence interval.
struct MeanInterval {
  double mean = 0, stddev = 0, low = 0, high = 0;
};
// The two-sided 95 % quantile of Student's t (1.96 beyond 30 degrees of freedom; 0 for none).
double StudentT975(int dof);
// Mean and interval of `values` (one value: a zero-width interval; none: all 0).
MeanInterval MeanConfidenceInterval(const std::vector<double>& values);
// The finding rule: the whole interval is below `bound`.
inline bool AvailabilityBelowBound(const MeanInterval& ci, double bound) { return ci.high < bound; }

}  // namespace resmeter
