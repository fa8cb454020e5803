// The cache levels the platform reports for a CPU, read from
// sys_root/devices/system/cpu/cpuN/cache/index*/ (the same data hwloc and
// CPUID report). The cache and memory meters size their buffers from it and
// compare their measurements against it.
//
// Threading: pure functions of the Env and the roots; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "meters/api/meter.h"

namespace resmeter {

struct CacheLevelInfo {
  int level = 0;
  std::string type;  // "Data", "Instruction", "Unified"
  uint64_t size_bytes = 0;
  uint32_t line_bytes = 0;  // coherency_line_size, 0 when absent
  std::string shared_cpu_list;
};

// Parses sysfs cache sizes such as "32K", "512K", "32768K", "1M", "1024".
std::optional<uint64_t> ParseCacheSize(std::string_view text);

// Reads every index*/ of one CPU, sorted by level then type. NotFound when
// the directory is missing or holds no readable level.
Result<std::vector<CacheLevelInfo>> ReadCpuCaches(const MeterContext& ctx, int cpu);

// The data-carrying levels (Data and Unified), one per level, ascending.
std::vector<CacheLevelInfo> DataCacheLevels(const std::vector<CacheLevelInfo>& caches);
// The size of the last data-carrying level, 0 when none.
uint64_t LastLevelCacheBytes(const std::vector<CacheLevelInfo>& caches);

// The data levels the platform reports for `cpu`, and where they came from.
struct ReportedCaches {
  std::vector<CacheLevelInfo> levels;  // DataCacheLevels(), ascending
  std::string source;                  // the sysfs directory, or "hwloc (...)"
};

// sysfs first; where it has no cache directory (some hypervisors expose the
// caches only through CPUID), hwloc's view of the same roots, which on the
// live machine is CPUID's. For fixture roots hwloc's CPUID backend is off,
// so a fixture without cache files stays NotFound.
Result<ReportedCaches> ReportedDataCaches(const MeterContext& ctx, int cpu);

}  // namespace resmeter
