// resmeter_cpu_seconds_total{cpu,mode}: seconds each CPU spent in each mode
// since boot, read from /proc/stat at scrape time (the counters
// node_exporter calls node_cpu_seconds_total), so rate() gives per-CPU
// utilisation and steal between light cycles without the agent sampling.
//
// These are the guest kernel's own counters: the host can make steal look
// lower than it is, which is why the bill prefers measured availability
// (resmeter_usage_vcpu_seconds_total). Pure but for the file read.
#pragma once

#include <prometheus/metric_family.h>

#include <optional>
#include <string>
#include <string_view>

namespace resmeter {

// The family from /proc/stat text; user_hz is sysconf(_SC_CLK_TCK).
// nullopt when the text has no cpuN line or does not parse.
std::optional<prometheus::MetricFamily> CpuSecondsFamily(std::string_view proc_stat_text, double user_hz);

// Reads <proc_root>/stat; nullopt when unreadable.
std::optional<prometheus::MetricFamily> ReadCpuSecondsFamily(const std::string& proc_root, double user_hz);

}  // namespace resmeter
