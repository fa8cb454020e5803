// Declared claims of the memory meters: memory.capacity, memory.bandwidth,
// memory.latency, cache.hierarchy. See claims/claim_spec.h.
#pragma once

#include "claims/claim_spec.h"

namespace resmeter {

// memory.capacity
inline constexpr ClaimSpec kMemTotalBytes{"memory.capacity",
                                          "mem_total_bytes",
                                          "bytes",
                                          ClaimType::kInteger,
                                          "MemTotal of /proc/meminfo",
                                          "memory.total_gib",
                                          "resmeter_memory_capacity_mem_total_bytes"};
inline constexpr ClaimSpec kMemFreeBytes{"memory.capacity",
                                         "mem_free_bytes",
                                         "bytes",
                                         ClaimType::kInteger,
                                         "MemFree of /proc/meminfo",
                                         {},
                                         "resmeter_memory_capacity_mem_free_bytes"};
inline constexpr ClaimSpec kMemAvailableBytes{"memory.capacity",
                                              "mem_available_bytes",
                                              "bytes",
                                              ClaimType::kInteger,
                                              "MemAvailable of /proc/meminfo",
                                              {},
                                              "resmeter_memory_capacity_mem_available_bytes"};
inline constexpr ClaimSpec kMemHugepages{"memory.capacity",
                                         "hugepages",
                                         "count",
                                         ClaimType::kInteger,
                                         "huge pages in the default-size pool (HugePages_Total)",
                                         {},
                                         "resmeter_memory_capacity_hugepages",
                                         "hugepages_total"};
inline constexpr ClaimSpec kMemHugepagesFree{"memory.capacity",
                                             "hugepages_free",
                                             "count",
                                             ClaimType::kInteger,
                                             "free huge pages in the default-size pool (HugePages_Free)",
                                             {},
                                             "resmeter_memory_capacity_hugepages_free"};
inline constexpr ClaimSpec kMemHugepageSizeBytes{"memory.capacity",
                                                 "hugepage_size_bytes",
                                                 "bytes",
                                                 ClaimType::kInteger,
                                                 "the default huge page size (Hugepagesize)",
                                                 {},
                                                 "resmeter_memory_capacity_hugepage_size_bytes"};
inline constexpr ClaimSpec kMemHugetlbBytes{"memory.capacity",
                                            "hugetlb_bytes",
                                            "bytes",
                                            ClaimType::kInteger,
                                            "memory in huge pages of every size (Hugetlb)",
                                            {},
                                            "resmeter_memory_capacity_hugetlb_bytes"};
inline constexpr ClaimSpec kMemHugepagePools{"memory.capacity", "hugepage_pools", "", ClaimType::kArray,
                                             "per huge page size: size, total and free pages (sysfs)"};
inline constexpr ClaimSpec kMemNumaNodes{"memory.capacity",
                                         "numa_nodes",
                                         "count",
                                         ClaimType::kInteger,
                                         "NUMA nodes with a meminfo in sysfs",
                                         {},
                                         "resmeter_memory_capacity_numa_nodes"};
inline constexpr ClaimSpec kMemNuma{"memory.capacity", "numa", "", ClaimType::kArray,
                                    "per NUMA node: node, mem_total_bytes and more from its sysfs meminfo"};
inline constexpr ClaimSpec kMemNumaTotalBytes{"memory.capacity",
                                              "numa_total_bytes",
                                              "bytes",
                                              ClaimType::kInteger,
                                              "sum of the NUMA nodes' MemTotal (sysfs)",
                                              {},
                                              "resmeter_memory_capacity_numa_total_bytes"};
inline constexpr ClaimSpec kMemHwlocNumaNodes{"memory.capacity",
                                              "hwloc_numa_nodes",
                                              "count",
                                              ClaimType::kInteger,
                                              "NUMA nodes hwloc sees",
                                              {},
                                              "resmeter_memory_capacity_hwloc_numa_nodes"};
inline constexpr ClaimSpec kMemHwlocNumaTotalBytes{"memory.capacity",
                                                   "hwloc_numa_total_bytes",
                                                   "bytes",
                                                   ClaimType::kInteger,
                                                   "sum of the NUMA nodes' memory hwloc sees",
                                                   {},
                                                   "resmeter_memory_capacity_hwloc_numa_total_bytes"};
inline constexpr ClaimSpec kMemZonePresentBytes{
    "memory.capacity",
    "zone_present_bytes",
    "bytes",
    ClaimType::kInteger,
    "physical pages present in all zones (/proc/zoneinfo present)",
    {},
    "resmeter_memory_capacity_zone_present_bytes"};
inline constexpr ClaimSpec kMemZoneManagedBytes{
    "memory.capacity",
    "zone_managed_bytes",
    "bytes",
    ClaimType::kInteger,
    "pages the allocator owns in all zones (/proc/zoneinfo managed; = the node files)",
    {},
    "resmeter_memory_capacity_zone_managed_bytes"};
inline constexpr ClaimSpec kMemMeminfoAboveManagedBytes{
    "memory.capacity",
    "meminfo_above_managed_bytes",
    "bytes",
    ClaimType::kInteger,
    "MemTotal minus managed pages: counted but not yet initialised (deferred init) or reserved",
    {},
    "resmeter_memory_capacity_meminfo_above_managed_bytes"};
inline constexpr ClaimSpec kMemPresentNotInMeminfoBytes{
    "memory.capacity",
    "present_not_in_meminfo_bytes",
    "bytes",
    ClaimType::kInteger,
    "present pages minus MemTotal: boot reservations, or memory present but not usable",
    {},
    "resmeter_memory_capacity_present_not_in_meminfo_bytes"};
inline constexpr ClaimSpec kMemBlocksOnlineBytes{
    "memory.capacity",
    "memory_blocks_online_bytes",
    "bytes",
    ClaimType::kInteger,
    "online memory blocks x block size (/sys/devices/system/memory)",
    {},
    "resmeter_memory_capacity_memory_blocks_online_bytes"};
inline constexpr ClaimSpec kMemBlocksOfflineBytes{"memory.capacity",
                                                  "memory_blocks_offline_bytes",
                                                  "bytes",
                                                  ClaimType::kInteger,
                                                  "offline memory blocks x block size",
                                                  {},
                                                  "resmeter_memory_capacity_memory_blocks_offline_bytes"};
inline constexpr ClaimSpec kMemBlockSizeBytes{"memory.capacity",
                                              "memory_block_size_bytes",
                                              "bytes",
                                              ClaimType::kInteger,
                                              "memory block size (block_size_bytes)",
                                              {},
                                              "resmeter_memory_capacity_memory_block_size_bytes"};
inline constexpr ClaimSpec kMemChecks{"memory.capacity", "memory_checks", "", ClaimType::kArray,
                                      "each like-with-like relation between the sources: name, relation, "
                                      "left/right bytes, holds, excess_ratio"};
inline constexpr ClaimSpec kMemTotalMaxDifference{"memory.capacity",
                                                  "total_max_difference_ratio",
                                                  "ratio",
                                                  ClaimType::kNumber,
                                                  "how far the worst like-with-like relation between the "
                                                  "memory sources is violated, as a fraction of MemTotal",
                                                  {},
                                                  "resmeter_memory_capacity_total_max_difference_ratio"};
inline constexpr ClaimSpec kMemTotalsAgree{"memory.capacity",
                                           "totals_agree",
                                           "",
                                           ClaimType::kBool,
                                           "every like-with-like relation between the memory sources holds",
                                           {},
                                           "resmeter_memory_capacity_totals_agree"};
inline constexpr const ClaimSpec* kMemoryCapacityClaims[] = {&kMemTotalBytes,
                                                             &kMemFreeBytes,
                                                             &kMemAvailableBytes,
                                                             &kMemHugepages,
                                                             &kMemHugepagesFree,
                                                             &kMemHugepageSizeBytes,
                                                             &kMemHugetlbBytes,
                                                             &kMemHugepagePools,
                                                             &kMemNumaNodes,
                                                             &kMemNuma,
                                                             &kMemNumaTotalBytes,
                                                             &kMemHwlocNumaNodes,
                                                             &kMemHwlocNumaTotalBytes,
                                                             &kMemTotalMaxDifference,
                                                             &kMemTotalsAgree,
                                                             &kMemZonePresentBytes,
                                                             &kMemZoneManagedBytes,
                                                             &kMemMeminfoAboveManagedBytes,
                                                             &kMemPresentNotInMeminfoBytes,
                                                             &kMemBlocksOnlineBytes,
                                                             &kMemBlocksOfflineBytes,
                                                             &kMemBlockSizeBytes,
                                                             &kMemChecks};

// memory.bandwidth
inline constexpr ClaimSpec kMemBandwidthMethod{"memory.bandwidth", "method", "", ClaimType::kString,
                                               "stream_kernels"};
inline constexpr ClaimSpec kMemBandwidthBest{"memory.bandwidth",
                                             "{kernel:copy|scale|add|triad}_bytes_per_second",
                                             "bytes/s",
                                             ClaimType::kNumber,
                                             "STREAM kernel bandwidth, best repetition, all CPUs",
                                             "memory.triad_gb_per_second",
                                             "resmeter_memory_bandwidth_bytes_per_second"};
inline constexpr ClaimSpec kMemBandwidthMean{"memory.bandwidth",
                                             "{kernel:copy|scale|add|triad}_mean_bytes_per_second",
                                             "bytes/s",
                                             ClaimType::kNumber,
                                             "STREAM kernel bandwidth, mean over repetitions",
                                             {},
                                             "resmeter_memory_bandwidth_mean_bytes_per_second"};
inline constexpr const ClaimSpec* kMemoryBandwidthClaims[] = {&kMemBandwidthMethod, &kMemBandwidthBest,
                                                              &kMemBandwidthMean};

// memory.latency
inline constexpr ClaimSpec kMemLatencyMethod{"memory.latency", "method", "", ClaimType::kString,
                                             "random_pointer_chase"};
inline constexpr ClaimSpec kMemLatencySeconds{"memory.latency",
                                              "latency_seconds",
                                              "seconds",
                                              ClaimType::kNumber,
                                              "main-memory load latency, fastest run",
                                              "memory.latency_ns",
                                              "resmeter_memory_latency_seconds"};
inline constexpr ClaimSpec kMemLatencyMedianSeconds{"memory.latency",
                                                    "median_latency_seconds",
                                                    "seconds",
                                                    ClaimType::kNumber,
                                                    "main-memory load latency, median run",
                                                    {},
                                                    "resmeter_memory_latency_median_seconds"};
inline constexpr const ClaimSpec* kMemoryLatencyClaims[] = {&kMemLatencyMethod, &kMemLatencySeconds,
                                                            &kMemLatencyMedianSeconds};

// cache.hierarchy
inline constexpr ClaimSpec kCacheMethod{"cache.hierarchy", "method", "", ClaimType::kString,
                                        "random_pointer_chase"};
inline constexpr ClaimSpec kCacheLevels{"cache.hierarchy", "levels", "", ClaimType::kArray,
                                        "measured cache levels (latency plateaus) next to the reported ones"};
inline constexpr ClaimSpec kCacheMemoryLatencySeconds{
    "cache.hierarchy",
    "memory_latency_seconds",
    "seconds",
    ClaimType::kNumber,
    "latency of the last plateau when it lies beyond twice the LLC",
    {},
    "resmeter_cache_hierarchy_memory_latency_seconds"};
inline constexpr ClaimSpec kCacheLatencyCurve{"cache.hierarchy", "latency_curve", "", ClaimType::kArray,
                                              "the measured curve: size_bytes, latency_seconds"};
inline constexpr const ClaimSpec* kCacheHierarchyClaims[] = {
    &kCacheMethod, &kCacheLevels, &kCacheMemoryLatencySeconds, &kCacheLatencyCurve};

// memory.verified (off by default)
inline constexpr ClaimSpec kMemVerifiedMethod{"memory.verified", "method", "", ClaimType::kString,
                                              "how memory was verified"};
inline constexpr ClaimSpec kMemVerifiedChallengeBytes{
    "memory.verified",
    "challenge_bytes",
    "bytes",
    ClaimType::kInteger,
    "bytes allocated, written with the keyed pattern and read back",
    {},
    "resmeter_memory_verified_challenge_bytes"};
inline constexpr ClaimSpec kMemVerifiedBytes{"memory.verified",
                                             "verified_bytes",
                                             "bytes",
                                             ClaimType::kInteger,
                                             "resident bytes of units that verified correctly at RAM speed",
                                             "memory.verified_bytes",
                                             "resmeter_memory_verified_verified_bytes"};
inline constexpr ClaimSpec kMemVerifiedSlowRatio{
    "memory.verified",
    "slow_ratio",
    "ratio",
    ClaimType::kNumber,
    "fraction of units read back slower than reference / slow_factor (swapped or compressed)",
    {},
    "resmeter_memory_verified_slow_ratio"};
inline constexpr ClaimSpec kMemVerifiedSwappedRatio{
    "memory.verified",
    "swapped_ratio",
    "ratio",
    ClaimType::kNumber,
    "fraction of the bytes not resident before read-back (swapped out by the guest)",
    {},
    "resmeter_memory_verified_swapped_ratio"};
inline constexpr ClaimSpec kMemVerifiedMismatchedWords{"memory.verified",
                                                       "mismatched_words",
                                                       "count",
                                                       ClaimType::kInteger,
                                                       "64-bit words that did not read back as written",
                                                       {},
                                                       "resmeter_memory_verified_mismatched_words"};
inline constexpr ClaimSpec kMemVerifiedReferenceBps{
    "memory.verified",
    "reference_verify_bytes_per_second",
    "bytes/s",
    ClaimType::kNumber,
    "read-back rate of a small buffer that surely is in RAM",
    {},
    "resmeter_memory_verified_reference_verify_bytes_per_second"};
inline constexpr ClaimSpec kMemVerifiedUnits{
    "memory.verified", "units", "", ClaimType::kArray,
    "per unit (GiB by default): write and verify rates, resident ratio, mismatches, slow"};
inline constexpr const ClaimSpec* kMemoryVerifiedClaims[] = {
    &kMemVerifiedMethod,       &kMemVerifiedChallengeBytes, &kMemVerifiedBytes,
    &kMemVerifiedSlowRatio,    &kMemVerifiedSwappedRatio,   &kMemVerifiedMismatchedWords,
    &kMemVerifiedReferenceBps, &kMemVerifiedUnits};

}  // namespace resmeter
