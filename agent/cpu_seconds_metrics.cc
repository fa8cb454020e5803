#include "agent/cpu_seconds_metrics.h"

#include <fstream>
#include <sstream>

#include "agent/metric_family_builder.h"
#include "meters/cpu/cpu_time.h"

namespace resmeter {

std::optional<prometheus::MetricFamily> CpuSecondsFamily(std::string_view proc_stat_text, double user_hz) {
  if (user_hz <= 0) return std::nullopt;
  auto parsed = ParseProcStat(proc_stat_text);
  if (!parsed.ok() || parsed->cpus.empty()) return std::nullopt;
  prometheus::MetricFamily f = EmptyFamily(
      "resmeter_cpu_seconds_total",
      "Seconds each CPU spent in each mode since boot, as the guest kernel counts them in /proc/stat "
      "(user and nice include guest time; steal is what the host says it took)",
      prometheus::MetricType::Counter);
  for (const auto& [cpu, ticks] : parsed->cpus) {
    const std::string id = std::to_string(cpu);
    // Only the fields the kernel gave: an old kernel without steal has no steal series.
    for (int i = 0; i < kCpuStates && i < ticks.fields; ++i) {
      AddSample(f, static_cast<double>(ticks.ticks[i]) / user_hz, {{"cpu", id}, {"mode", kCpuStateNames[i]}});
    }
  }
  return f;
}

std::optional<prometheus::MetricFamily> ReadCpuSecondsFamily(const std::string& proc_root, double user_hz) {
  std::ifstream in(proc_root + "/stat");
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return CpuSecondsFamily(text.str(), user_hz);
}

}  // namespace resmeter
