// What this process costs: CPU seconds (getrusage) and resident memory
// (/proc/self/statm), for the CPU budget and the exporter. Thread-safe.
#pragma once

namespace resmeter {

// User + system CPU seconds this process has used.
double ProcessCpuSeconds();
// Resident set size in bytes, or -1 when /proc/self/statm is unreadable.
double ProcessResidentBytes();

}  // namespace resmeter
