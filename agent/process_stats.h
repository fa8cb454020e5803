// What this process costs: CPU seconds (getrusage), memory (/proc/self/statm),
// file descriptors and start time, for the CPU budget and the exporter's
// standard process_* metrics. Thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

namespace resmeter {

// User + system CPU seconds this process has used.
double ProcessCpuSeconds();
// Resident set size in bytes, or -1 when /proc/self/statm is unreadable.
double ProcessResidentBytes();
// Virtual memory size in bytes, or -1 when /proc/self/statm is unreadable.
double ProcessVirtualBytes();
// Open file descriptors (entries of /proc/self/fd), or -1 when unreadable.
double ProcessOpenFds();
// The soft RLIMIT_NOFILE, or -1.
double ProcessMaxFds();
// When the process started, Unix seconds (/proc/self/stat starttime after
// /proc/stat btime), or -1 when unreadable.
double ProcessStartTimeSeconds();

// The standard process_* families client libraries export (the names
// Prometheus dashboards expect): process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds. A value
// that cannot be read leaves its family out.
std::vector<prometheus::MetricFamily> ProcessFamilies();

}  // namespace resmeter
