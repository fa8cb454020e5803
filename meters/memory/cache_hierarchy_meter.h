// cache.hierarchy: measures the cache levels with a latency curve and puts
// them next to what the platform reports.
//
// A randomized pointer chase (meters/memory/pointer_chase.h) runs on one pinned CPU
// over buffer sizes from `min_bytes` (4 KiB) to at least 4x the last-level
// cache, `steps_per_octave` sizes per doubling, best of `repetitions` timed
// runs each; the buffer is one 2 MiB-aligned mapping advised for huge pages
// (meters/memory/mem_buffer.h) so TLB misses do not blur the large levels.
// Plateaus of the curve (meters/memory/cache_curve.h) are the levels: measured size
// (last size of the plateau) and latency, set next to the sizes sysfs
// reports for cpu N (what hwloc and CPUID report). A level whose measured
// size differs from the reported one by more than `mismatch_octaves` powers
// of two (default 1), or a different number of levels, is a finding. The
// measured size is the last flat size, so it reads up to one curve step low.
//
// Threading: Measure() runs the chase on one pinned thread and joins it.
#pragma once

#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"
#include "meters/memory/cache_curve.h"
#include "meters/memory/cache_info.h"

namespace resmeter {

class CacheHierarchyMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;
};

// The options of cache.hierarchy, for its registry row.
std::vector<OptionSpec> CacheHierarchyOptions();

// The buffer sizes of the curve: min_bytes, then steps_per_octave sizes per
// doubling up to at least max_bytes, each a multiple of `stride`.
std::vector<uint64_t> CurveSizes(uint64_t min_bytes, uint64_t max_bytes, int steps_per_octave,
                                 uint64_t stride);

// Compares plateaus with reported data levels; appends findings and returns
// the per-level JSON. A last plateau reaching 2x the LLC is memory, not a level.
// With `llc_shared_with_unseen_tenants` (a VM) a last level measured smaller
// than reported is marked, not a finding.
nlohmann::json CompareLevels(const std::vector<Plateau>& plateaus,
                             const std::vector<CacheLevelInfo>& reported, double mismatch_octaves,
                             bool llc_shared_with_unseen_tenants, std::vector<Finding>* findings);

// True when /proc/cpuinfo's flags include "hypervisor" (CPUID's hypervisor bit).
bool RunsInVirtualMachine(const MeterContext& ctx);

}  // namespace resmeter
