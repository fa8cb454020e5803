// CpuLossCounters: the kernel counters of time a vCPU lost that the guest
// did not spend itself (per-vCPU steal from /proc/stat, and the time this
// process's cgroup was throttled), read at both ends of a measured window.
// The availability sampler, cpu.availability and cpu.effective all read
// them at a barrier's completion step, while every challenge thread waits.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "meters/api/meter.h"
#include "meters/cpu/cgroup_cpu.h"

namespace resmeter {

struct CpuLossCounters {
  std::map<int, uint64_t> steal_ticks;   // by vCPU, from /proc/stat (USER_HZ ticks)
  std::optional<CgroupCpuLimit> cgroup;  // absent when the cgroup's cpu files are unreadable
};

CpuLossCounters ReadCpuLossCounters(const MeterContext& ctx);

// Steal seconds of vCPU `cpu` between two readings (0 when either lacks it).
double StealSecondsBetween(const CpuLossCounters& before, const CpuLossCounters& after, int cpu);

// The cgroup's throttled seconds between two readings (0 without a cgroup).
double ThrottledSecondsBetween(const CpuLossCounters& before, const CpuLossCounters& after);

}  // namespace resmeter
