// memory.capacity (light): installed and available memory and huge pages
// from /proc/meminfo, per-NUMA-node memory from
// /sys/devices/system/node/node*/meminfo and from hwloc, zone page counts
// from /proc/zoneinfo and online memory blocks from
// /sys/devices/system/memory, and whether these figures can all be true.
// The sources count different things (MemTotal may include pages the kernel
// has not initialised yet; node files count only initialised ones), so they
// are compared like with like (meters/memory/memory_accounting.h); a relation that
// fails by more than mismatch_tolerance_ratio of MemTotal is a finding
// ("memory_total_mismatch": a host presenting figures that contradict each
// other, memory present but not usable, offline blocks).
//
// Thread-compatible: each Measure() call is independent.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/result.h"
#include "meters/api/meter.h"

namespace resmeter {

// Parses meminfo text (/proc/meminfo or a node's "Node N Key: value kB"
// lines) into key -> value; "kB" values are converted to bytes, unitless
// values (HugePages_Total) kept as counts. Corruption on a malformed line,
// naming it.
Result<std::map<std::string, uint64_t>> ParseMeminfo(std::string_view text);

// The largest relative difference of any value from `reference` (0 when empty).
double MaxRelativeDifference(uint64_t reference, const std::vector<uint64_t>& others);

class MemoryCapacityMeter final : public Meter {
 public:
  // unavailable when /proc/meminfo is missing or lacks MemTotal; NUMA
  // sources that are missing are named in the conditions.
  MeterResult Measure(MeterContext& ctx) override;
};

}  // namespace resmeter
