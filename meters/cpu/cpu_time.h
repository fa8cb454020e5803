// cpu.time (light): CPU time by state over a sampling window, from two
// readings of /proc/stat: per-CPU and total user/nice/system/idle/iowait/
// irq/softirq/steal seconds, delivered vCPU-seconds (wall x vCPUs - steal)
// and the steal ratio.
//
// Counters are unsigned tick counts in USER_HZ (sysconf(_SC_CLK_TCK)). A
// counter that went down is either a 32/64-bit wrap (kept, with a finding),
// a small backwards step (clamped to zero, with a finding; the kernel's
// iowait/idle may do this on tickless CPUs) or a reset such as a CPU going
// offline and back (that CPU's sample is discarded, with a finding). No
// negative seconds ever reach a claim.
//
// The parsing and arithmetic are pure functions; the meter only reads the
// file twice through ctx.env with ctx.env->SleepFor() in between.
// Thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "meters/api/meter.h"

namespace resmeter {

// The accounted states of a /proc/stat "cpu" line, in file order. guest and
// guest_nice follow in the file but are already included in user and nice.
inline constexpr int kCpuStates = 8;
inline constexpr std::array<const char*, kCpuStates> kCpuStateNames = {"user",   "nice", "system",  "idle",
                                                                       "iowait", "irq",  "softirq", "steal"};
inline constexpr int kStealIndex = 7;

// One "cpu"/"cpuN" line: tick counters and how many fields the kernel gave.
struct CpuTicks {
  std::array<uint64_t, kCpuStates> ticks{};
  int fields = 0;  // numeric fields present (4 on ancient kernels, 8+ with steal)
};

// The CPU lines of one /proc/stat reading.
struct ProcStat {
  std::optional<CpuTicks> aggregate;  // the "cpu" line
  std::map<int, CpuTicks> cpus;       // "cpuN" lines by N
};

// Parses /proc/stat text. Corruption when a cpu line is malformed or has
// fewer than 4 counters, naming the line; lines other than cpu* are ignored.
Result<ProcStat> ParseProcStat(std::string_view text);

// Seconds per state of one CPU over the window.
struct CpuSeconds {
  int cpu = 0;
  bool sampled = false;  // false: discarded (reset counters or missing in one reading)
  std::array<double, kCpuStates> seconds{};
};

// The outcome of comparing two readings.
struct CpuTimeWindow {
  double wall_seconds = 0;
  double user_hz = 0;
  int vcpus = 0;                                   // CPUs listed in the second reading
  int vcpus_sampled = 0;                           // CPUs with a usable sample in both readings
  bool steal_reported = false;                     // every sampled CPU line carries a steal field
  std::vector<CpuSeconds> per_cpu;                 // ordered by CPU number, sampled or not
  std::array<double, kCpuStates> total_seconds{};  // over sampled CPUs
  double busy_seconds = 0;                         // user + nice + system + irq + softirq over sampled CPUs
  double delivered_vcpu_seconds = 0;               // wall x vcpus_sampled - steal (when steal_reported)
  std::optional<double> steal_ratio;               // steal / all accounted time (when steal_reported)
  std::vector<Finding> findings;
};

// Compares two readings taken wall_seconds apart (USER_HZ user_hz).
// InvalidArgument when wall_seconds or user_hz is not positive; Corruption
// when a reading has no per-CPU lines.
Result<CpuTimeWindow> ComputeCpuTimeWindow(const ProcStat& t0, const ProcStat& t1, double wall_seconds,
                                           double user_hz);

// Builds the meter's claims, conditions and findings from a window.
MeterResult CpuTimeResult(const CpuTimeWindow& window);

class CpuTimeMeter final : public Meter {
 public:
  // Reads /proc/stat, sleeps window_seconds (in slices, watching for
  // cancellation), reads again. unavailable when /proc/stat is missing.
  MeterResult Measure(MeterContext& ctx) override;
};

}  // namespace resmeter
