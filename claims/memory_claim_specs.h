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
inline constexpr ClaimSpec kMemTotalMaxDifference{
    "memory.capacity",
    "total_max_difference_ratio",
    "ratio",
    ClaimType::kNumber,
    "largest relative difference between the memory totals of the sources",
    {},
    "resmeter_memory_capacity_total_max_difference_ratio"};
inline constexpr ClaimSpec kMemTotalsAgree{"memory.capacity",
                                           "totals_agree",
                                           "",
                                           ClaimType::kBool,
                                           "the totals differ by at most mismatch_tolerance_ratio",
                                           {},
                                           "resmeter_memory_capacity_totals_agree"};
inline constexpr const ClaimSpec* kMemoryCapacityClaims[] = {
    &kMemTotalBytes,          &kMemFreeBytes,
    &kMemAvailableBytes,      &kMemHugepages,
    &kMemHugepagesFree,       &kMemHugepageSizeBytes,
    &kMemHugetlbBytes,        &kMemHugepagePools,
    &kMemNumaNodes,           &kMemNuma,
    &kMemNumaTotalBytes,      &kMemHwlocNumaNodes,
    &kMemHwlocNumaTotalBytes, &kMemTotalMaxDifference,
    &kMemTotalsAgree};

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

}  // namespace resmeter
