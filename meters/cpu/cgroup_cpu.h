// The CPU limit the guest itself puts on this process: the CFS bandwidth
// quota of its cgroup (v1 cpu.cfs_quota_us/cpu.cfs_period_us, v2 cpu.max),
// the tightest along the path to the root, and the throttle counters along it.
// cpu.availability names it in its findings so a guest-side quota is not
// mistaken for the host's.
//
// Threading: pure functions of the Env and the roots; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "meters/api/meter.h"

namespace resmeter {

struct CgroupCpuLimit {
  std::string version;         // "v1" or "v2"
  std::string path;            // the process's cgroup path, e.g. "/resmeter_test"
  double quota_cpus = 0;       // quota / period of the tightest level; 0 when unlimited
  uint64_t nr_throttled = 0;   // cpu.stat of the cgroup and its ancestors, summed
  double throttled_seconds = 0;  // summed over the cgroup's per-CPU queues (kernel's own sum)
};

// Parses a cpu.max line ("max 100000" or "50000 100000") into CPUs (0 = unlimited).
std::optional<double> ParseCpuMax(std::string_view text);
// Parses cpu.stat: nr_throttled and throttled_time (ns, v1) or throttled_usec (v2).
void ParseCpuStat(std::string_view text, CgroupCpuLimit* out);

// Reads proc_root/self/cgroup and the cgroup files under sys_root/fs/cgroup.
// NotFound when the process has no cpu controller.
Result<CgroupCpuLimit> ReadCgroupCpuLimit(const MeterContext& ctx);

}  // namespace resmeter
