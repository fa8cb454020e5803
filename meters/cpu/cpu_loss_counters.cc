#include "meters/cpu/cpu_loss_counters.h"

#include <unistd.h>

#include <algorithm>

#include "meters/cpu/cpu_availability_meter.h"

namespace resmeter {

CpuLossCounters ReadCpuLossCounters(const MeterContext& ctx) {
  CpuLossCounters c;
  Result<std::string> stat = ctx.env->ReadFile(ctx.Proc("stat"));
  if (stat.ok()) c.steal_ticks = StealTicksByCpu(*stat);
  Result<CgroupCpuLimit> cg = ReadCgroupCpuLimit(ctx);
  if (cg.ok()) c.cgroup = *cg;
  return c;
}

double StealSecondsBetween(const CpuLossCounters& before, const CpuLossCounters& after, int cpu) {
  auto x = before.steal_ticks.find(cpu);
  auto y = after.steal_ticks.find(cpu);
  if (x == before.steal_ticks.end() || y == after.steal_ticks.end() || y->second < x->second) return 0;
  static const double kTickSeconds = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  return static_cast<double>(y->second - x->second) * kTickSeconds;
}

double ThrottledSecondsBetween(const CpuLossCounters& before, const CpuLossCounters& after) {
  if (!before.cgroup || !after.cgroup) return 0;
  return std::max(0.0, after.cgroup->throttled_seconds - before.cgroup->throttled_seconds);
}

}  // namespace resmeter
