// UsageAccountant: what one ledger period delivered, measured over the whole
// period rather than sampled.
//
//  - vCPU-seconds delivered and stolen: /proc/stat read at both ends of the
//    period and compared with cpu.time's own arithmetic
//    (ComputeCpuTimeWindow: wall x vCPUs - steal), so nothing between light
//    cycles is extrapolated.
//  - memory GiB-seconds: memory.capacity's mem_total_bytes from each light
//    cycle, held from its measurement until the next one (a failed or
//    unavailable run ends the hold), integrated over the period.
//  - GPU-seconds: gpu.devices' gpu_count integrated the same way, when that
//    meter exists and reports.
//  - measured availability: the challenge rounds an attached
//    CpuAvailabilitySampler completed during the period (their sample count,
//    mean ratio and the sampler's cost); the bill prefers it to steal.
// Durations come from the monotonic clock; period bounds are wall time.
//
// Thread-safe: OnRuns (scheduler thread) and ClosePeriod (ledger thread) may
// run at the same time.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "meters/cpu/cpu_availability_sampler.h"
#include "meters/cpu/cpu_time.h"
#include "meters/registry/runner.h"
#include "ledger/ledger_statement.h"

namespace resmeter {

// One period's usage.
struct PeriodUsage : MeteredPeriod {
  bool cpu_measured = false;          // false: /proc/stat unreadable or without steal
  double memory_covered_seconds = 0;  // part of the period with a memory measurement
  std::vector<std::string> notes;     // why something was not measured
  PeriodAvailability availability = {};  // measured availability (from an attached sampler)
};

class UsageAccountant {
 public:
  UsageAccountant(Env* env, std::string proc_root, double user_hz);
  UsageAccountant(const UsageAccountant&) = delete;
  UsageAccountant& operator=(const UsageAccountant&) = delete;

  // Starts the first period now (reads /proc/stat).
  void Begin();
  // Takes each period's measured availability from `sampler` from now on
  // (nullptr detaches); the sampler must outlive the attachment.
  void AttachSampler(CpuAvailabilitySampler* sampler);
  // Takes the memory and GPU readings out of a cycle's runs.
  void OnRuns(const std::vector<MeterRun>& runs);
  // Ends the current period now, returns it, and starts the next one.
  PeriodUsage ClosePeriod();

 private:
  // A piecewise-constant quantity integrated over time.
  struct Integral {
    std::optional<double> value;  // in effect since `since` (monotonic); nullopt: not measured
    double since = 0;
    double sum = 0;      // value x seconds in the current period
    double covered = 0;  // seconds with a value in the current period
    void Advance(double mono);
  };
  std::optional<ProcStat> ReadStat(std::string* why) const;

  Env* env_;
  const std::string proc_root_;
  const double user_hz_;
  std::mutex mu_;
  double period_start_wall_ = 0;
  double period_start_mono_ = 0;
  std::optional<ProcStat> stat_at_start_;
  Integral memory_;  // bytes
  Integral gpus_;    // devices
  CpuAvailabilitySampler* sampler_ = nullptr;
};

}  // namespace resmeter
