// Declared claims of the CPU meters: cpu.topology, cpu.time, cpu.frequency,
// cpu.throttling, cpu.availability, cpu.effective. See claims/claim_spec.h.
#pragma once

#include "claims/claim_spec.h"

namespace resmeter {

// cpu.topology
inline constexpr ClaimSpec kCpuTopologyPackages{"cpu.topology",
                                                "packages",
                                                "count",
                                                ClaimType::kInteger,
                                                "CPU packages (sockets) hwloc sees",
                                                {},
                                                "resmeter_cpu_topology_packages"};
inline constexpr ClaimSpec kCpuTopologyCores{"cpu.topology",
                                             "cores",
                                             "count",
                                             ClaimType::kInteger,
                                             "physical cores hwloc sees",
                                             {},
                                             "resmeter_cpu_topology_cores"};
inline constexpr ClaimSpec kCpuTopologyVcpus{"cpu.topology",
                                             "vcpus",
                                             "count",
                                             ClaimType::kInteger,
                                             "logical CPUs (hardware threads, vCPUs) hwloc sees",
                                             "cpu.vcpus",
                                             "resmeter_cpu_topology_vcpus",
                                             "threads"};
inline constexpr ClaimSpec kCpuTopologyAllowedVcpus{"cpu.topology",
                                                    "allowed_vcpus",
                                                    "count",
                                                    ClaimType::kInteger,
                                                    "logical CPUs this process may run on (its cpuset)",
                                                    {},
                                                    "resmeter_cpu_topology_allowed_vcpus",
                                                    "allowed_threads"};
inline constexpr ClaimSpec kCpuTopologyThreadsPerCore{
    "cpu.topology",
    "threads_per_core",
    "count",
    ClaimType::kInteger,
    "hardware threads per core, when every core has the same number",
    {},
    "resmeter_cpu_topology_threads_per_core"};
inline constexpr ClaimSpec kCpuTopologyNumaNodes{"cpu.topology",
                                                 "numa_nodes",
                                                 "count",
                                                 ClaimType::kInteger,
                                                 "NUMA nodes hwloc sees",
                                                 {},
                                                 "resmeter_cpu_topology_numa_nodes"};
inline constexpr ClaimSpec kCpuTopologyNuma{"cpu.topology", "numa", "", ClaimType::kArray,
                                            "per NUMA node: node, memory_bytes, threads"};
inline constexpr ClaimSpec kCpuTopologyCaches{
    "cpu.topology", "caches", "", ClaimType::kArray,
    "cache groups: level, type, size, line, ways, threads sharing each"};
inline constexpr ClaimSpec kCpuTopologyCpuModel{"cpu.topology", "cpu_model", "", ClaimType::kString,
                                                "the CPU model name hwloc reports"};
inline constexpr ClaimSpec kCpuTopologyOnlineCpus{"cpu.topology",
                                                  "online_cpus",
                                                  "count",
                                                  ClaimType::kInteger,
                                                  "CPUs listed in /sys/devices/system/cpu/online",
                                                  {},
                                                  "resmeter_cpu_topology_online_cpus"};
inline constexpr ClaimSpec kCpuTopologyCpuinfoProcessors{"cpu.topology",
                                                         "cpuinfo_processors",
                                                         "count",
                                                         ClaimType::kInteger,
                                                         "processor entries in /proc/cpuinfo",
                                                         {},
                                                         "resmeter_cpu_topology_cpuinfo_processors"};
inline constexpr ClaimSpec kCpuTopologyCountsAgree{
    "cpu.topology",
    "cpu_counts_agree",
    "",
    ClaimType::kBool,
    "hwloc, sysfs online and /proc/cpuinfo give the same CPU count",
    {},
    "resmeter_cpu_topology_cpu_counts_agree"};
inline constexpr const ClaimSpec* kCpuTopologyClaims[] = {&kCpuTopologyPackages,
                                                          &kCpuTopologyCores,
                                                          &kCpuTopologyVcpus,
                                                          &kCpuTopologyAllowedVcpus,
                                                          &kCpuTopologyThreadsPerCore,
                                                          &kCpuTopologyNumaNodes,
                                                          &kCpuTopologyNuma,
                                                          &kCpuTopologyCaches,
                                                          &kCpuTopologyCpuModel,
                                                          &kCpuTopologyOnlineCpus,
                                                          &kCpuTopologyCpuinfoProcessors,
                                                          &kCpuTopologyCountsAgree};

// cpu.time
inline constexpr ClaimSpec kCpuTimeWindowSeconds{"cpu.time",
                                                 "window_seconds",
                                                 "seconds",
                                                 ClaimType::kNumber,
                                                 "wall time between the two /proc/stat reads",
                                                 {},
                                                 "resmeter_cpu_time_window_seconds"};
inline constexpr ClaimSpec kCpuTimeVcpus{"cpu.time",
                                         "vcpus",
                                         "count",
                                         ClaimType::kInteger,
                                         "CPUs listed in /proc/stat",
                                         {},
                                         "resmeter_cpu_time_vcpus"};
inline constexpr ClaimSpec kCpuTimeVcpusSampled{"cpu.time",
                                                "vcpus_sampled",
                                                "count",
                                                ClaimType::kInteger,
                                                "CPUs present at both reads of the window",
                                                {},
                                                "resmeter_cpu_time_vcpus_sampled"};
inline constexpr ClaimSpec kCpuTimeStateSeconds{
    "cpu.time",
    "{state:user|nice|system|idle|iowait|irq|softirq|steal}_seconds",
    "seconds",
    ClaimType::kNumber,
    "CPU seconds spent in each state over the window, all CPUs together (steal only when the kernel reports "
    "it)",
    {},
    "resmeter_cpu_time_state_seconds"};
inline constexpr ClaimSpec kCpuTimeBusySeconds{"cpu.time",
                                               "busy_seconds",
                                               "seconds",
                                               ClaimType::kNumber,
                                               "CPU seconds not idle, iowait or steal over the window",
                                               {},
                                               "resmeter_cpu_time_busy_seconds"};
inline constexpr ClaimSpec kCpuTimeDeliveredVcpuSeconds{
    "cpu.time",
    "delivered_vcpu_seconds",
    "seconds",
    ClaimType::kNumber,
    "window x vCPUs - steal: vCPU-seconds the host delivered",
    {},
    "resmeter_cpu_time_delivered_vcpu_seconds"};
inline constexpr ClaimSpec kCpuTimeStealRatio{"cpu.time",
                                              "steal_ratio",
                                              "ratio",
                                              ClaimType::kNumber,
                                              "steal / (window x vCPUs)",
                                              "cpu.steal_ratio",
                                              "resmeter_cpu_time_steal_ratio"};
inline constexpr ClaimSpec kCpuTimePerCpu{"cpu.time", "per_cpu", "", ClaimType::kArray,
                                          "per CPU: cpu, sampled and its seconds by state"};
inline constexpr const ClaimSpec* kCpuTimeClaims[] = {&kCpuTimeWindowSeconds, &kCpuTimeVcpus,
                                                      &kCpuTimeVcpusSampled,  &kCpuTimeStateSeconds,
                                                      &kCpuTimeBusySeconds,   &kCpuTimeDeliveredVcpuSeconds,
                                                      &kCpuTimeStealRatio,    &kCpuTimePerCpu};

// cpu.frequency
inline constexpr ClaimSpec kCpuFrequencyMethod{"cpu.frequency", "method", "", ClaimType::kString,
                                               "pmu_cycles or calibrated_dependent_chain"};
inline constexpr ClaimSpec kCpuFrequencyBurstHz{"cpu.frequency",
                                                "single_core_burst_hz",
                                                "hertz",
                                                ClaimType::kNumber,
                                                "effective clock of one loaded core (fastest core)",
                                                "cpu.burst_ghz",
                                                "resmeter_cpu_frequency_single_core_burst_hertz"};
inline constexpr ClaimSpec kCpuFrequencyAllCoreHz{"cpu.frequency",
                                                  "all_core_hz",
                                                  "hertz",
                                                  ClaimType::kNumber,
                                                  "mean effective clock with every core loaded",
                                                  "cpu.all_core_ghz",
                                                  "resmeter_cpu_frequency_all_core_hertz"};
inline constexpr ClaimSpec kCpuFrequencyPerCore{"cpu.frequency", "per_core", "", ClaimType::kArray,
                                                "per core: cpu, burst and all-core clocks"};
inline constexpr ClaimSpec kCpuFrequencyTscHz{"cpu.frequency",
                                              "tsc_hz",
                                              "hertz",
                                              ClaimType::kNumber,
                                              "invariant TSC rate over CLOCK_MONOTONIC_RAW",
                                              {},
                                              "resmeter_cpu_frequency_tsc_hertz"};
inline constexpr ClaimSpec kCpuFrequencyNominalHz{
    "cpu.frequency",
    "nominal_hz",
    "hertz",
    ClaimType::kNumber,
    "the nominal clock the platform claims (cpufreq, model name or cpu MHz)",
    {},
    "resmeter_cpu_frequency_nominal_hertz"};
inline constexpr ClaimSpec kCpuFrequencyBurstToNominal{"cpu.frequency",
                                                       "burst_to_nominal_ratio",
                                                       "ratio",
                                                       ClaimType::kNumber,
                                                       "single-core burst / nominal",
                                                       {},
                                                       "resmeter_cpu_frequency_burst_to_nominal_ratio"};
inline constexpr ClaimSpec kCpuFrequencyAllCoreToNominal{"cpu.frequency",
                                                         "all_core_to_nominal_ratio",
                                                         "ratio",
                                                         ClaimType::kNumber,
                                                         "all-core / nominal",
                                                         {},
                                                         "resmeter_cpu_frequency_all_core_to_nominal_ratio"};
inline constexpr const ClaimSpec* kCpuFrequencyClaims[] = {
    &kCpuFrequencyMethod,         &kCpuFrequencyBurstHz,         &kCpuFrequencyAllCoreHz,
    &kCpuFrequencyPerCore,        &kCpuFrequencyTscHz,           &kCpuFrequencyNominalHz,
    &kCpuFrequencyBurstToNominal, &kCpuFrequencyAllCoreToNominal};

// cpu.throttling
inline constexpr ClaimSpec kCpuThrottlingMethod{"cpu.throttling", "method", "", ClaimType::kString,
                                                "how the clock was measured"};
inline constexpr ClaimSpec kCpuThrottlingBurstHz{"cpu.throttling",
                                                 "burst_hz",
                                                 "hertz",
                                                 ClaimType::kNumber,
                                                 "highest all-core clock in the first second",
                                                 {},
                                                 "resmeter_cpu_throttling_burst_hertz"};
inline constexpr ClaimSpec kCpuThrottlingSustainedHz{
    "cpu.throttling",
    "sustained_hz",
    "hertz",
    ClaimType::kNumber,
    "median all-core clock over the second half of the window",
    "cpu.sustained_ghz",
    "resmeter_cpu_throttling_sustained_hertz"};
inline constexpr ClaimSpec kCpuThrottlingSustainedToBurst{"cpu.throttling",
                                                          "sustained_to_burst_ratio",
                                                          "ratio",
                                                          ClaimType::kNumber,
                                                          "sustained / burst",
                                                          {},
                                                          "resmeter_cpu_throttling_sustained_to_burst_ratio"};
inline constexpr ClaimSpec kCpuThrottlingTrend{"cpu.throttling",
                                               "trend_hz_per_second",
                                               "hertz/s",
                                               ClaimType::kNumber,
                                               "least-squares slope of the all-core clock over the window",
                                               {},
                                               "resmeter_cpu_throttling_trend_hertz_per_second"};
inline constexpr ClaimSpec kCpuThrottlingSamples{"cpu.throttling", "all_core_hz_samples", "hertz",
                                                 ClaimType::kArray, "the all-core clock of each sample"};
inline constexpr ClaimSpec kCpuThrottlingThermalEvents{
    "cpu.throttling",
    "thermal_throttle_events",
    "count",
    ClaimType::kInteger,
    "rise of the sysfs thermal-throttle counters over the window",
    {},
    "resmeter_cpu_throttling_thermal_throttle_events"};
inline constexpr const ClaimSpec* kCpuThrottlingClaims[] = {
    &kCpuThrottlingMethod,           &kCpuThrottlingBurstHz, &kCpuThrottlingSustainedHz,
    &kCpuThrottlingSustainedToBurst, &kCpuThrottlingTrend,   &kCpuThrottlingSamples,
    &kCpuThrottlingThermalEvents};

// cpu.availability
inline constexpr ClaimSpec kCpuAvailabilityMethod{"cpu.availability", "method", "", ClaimType::kString,
                                                  "how availability was measured"};
inline constexpr ClaimSpec kCpuAvailabilityRatio{
    "cpu.availability",
    "availability_ratio",
    "ratio",
    ClaimType::kNumber,
    "mean fraction of its entitled time each vCPU ran the challenge",
    "cpu.availability_ratio",
    "resmeter_cpu_availability_ratio"};
inline constexpr ClaimSpec kCpuAvailabilityDeliveredVcpus{
    "cpu.availability",
    "delivered_vcpus",
    "count",
    ClaimType::kNumber,
    "sum of the per-vCPU availability: vCPUs really delivered",
    {},
    "resmeter_cpu_availability_delivered_vcpus"};
inline constexpr ClaimSpec kCpuAvailabilityWallRatio{"cpu.availability",
                                                     "wall_availability_ratio",
                                                     "ratio",
                                                     ClaimType::kNumber,
                                                     "work / (fastest rate x wall time), mean over vCPUs",
                                                     {},
                                                     "resmeter_cpu_availability_wall_availability_ratio"};
inline constexpr ClaimSpec kCpuAvailabilityCpuTimeRatio{"cpu.availability",
                                                        "cpu_time_ratio",
                                                        "ratio",
                                                        ClaimType::kNumber,
                                                        "thread CPU time / wall time, mean over vCPUs",
                                                        {},
                                                        "resmeter_cpu_availability_cpu_time_ratio"};
inline constexpr ClaimSpec kCpuAvailabilityHiddenLoss{
    "cpu.availability",
    "hidden_loss_ratio",
    "ratio",
    ClaimType::kNumber,
    "time lost that neither steal nor the guest accounts for, mean over vCPUs",
    {},
    "resmeter_cpu_availability_hidden_loss_ratio"};
inline constexpr ClaimSpec kCpuAvailabilityGuestContention{
    "cpu.availability",
    "guest_contention_ratio",
    "ratio",
    ClaimType::kNumber,
    "time the guest itself gave to other work, mean over vCPUs",
    {},
    "resmeter_cpu_availability_guest_contention_ratio"};
inline constexpr ClaimSpec kCpuAvailabilityStealSeconds{
    "cpu.availability",
    "steal_seconds",
    "seconds",
    ClaimType::kNumber,
    "steal the kernel reported during the window, all vCPUs",
    {},
    "resmeter_cpu_availability_steal_seconds"};
inline constexpr ClaimSpec kCpuAvailabilityCi95Low{
    "cpu.availability",
    "availability_ci95_low_ratio",
    "ratio",
    ClaimType::kNumber,
    "lower end of the 95 % confidence interval of availability_ratio over the windows",
    "cpu.availability_ci95_low_ratio",
    "resmeter_cpu_availability_ci95_low_ratio"};
inline constexpr ClaimSpec kCpuAvailabilityCi95High{
    "cpu.availability",
    "availability_ci95_high_ratio",
    "ratio",
    ClaimType::kNumber,
    "upper end of the 95 % confidence interval of availability_ratio over the windows",
    {},
    "resmeter_cpu_availability_ci95_high_ratio"};
inline constexpr ClaimSpec kCpuAvailabilityStddev{"cpu.availability",
                                                  "availability_stddev_ratio",
                                                  "ratio",
                                                  ClaimType::kNumber,
                                                  "standard deviation of the windows' availability ratios",
                                                  {},
                                                  "resmeter_cpu_availability_stddev_ratio"};
inline constexpr ClaimSpec kCpuAvailabilityWindows{
    "cpu.availability", "windows", "", ClaimType::kArray,
    "per measured window: availability_ratio, wall_seconds, throttled_seconds"};
inline constexpr ClaimSpec kCpuAvailabilityPerCpu{
    "cpu.availability", "per_cpu", "", ClaimType::kArray,
    "per vCPU: the ratios and clock rate, mean over the windows"};
inline constexpr const ClaimSpec* kCpuAvailabilityClaims[] = {
    &kCpuAvailabilityMethod,          &kCpuAvailabilityRatio,        &kCpuAvailabilityDeliveredVcpus,
    &kCpuAvailabilityWallRatio,       &kCpuAvailabilityCpuTimeRatio, &kCpuAvailabilityHiddenLoss,
    &kCpuAvailabilityGuestContention, &kCpuAvailabilityStealSeconds, &kCpuAvailabilityPerCpu,
    &kCpuAvailabilityCi95Low,         &kCpuAvailabilityCi95High,     &kCpuAvailabilityStddev,
    &kCpuAvailabilityWindows};

// cpu.effective (off by default)
inline constexpr ClaimSpec kCpuEffectiveMethod{"cpu.effective", "method", "", ClaimType::kString,
                                               "how effective vCPUs were measured"};
inline constexpr ClaimSpec kCpuEffectiveVcpus{
    "cpu.effective",
    "effective_vcpus",
    "count",
    ClaimType::kNumber,
    "parallel speed-up of the challenge on all vCPUs against one, median of the rounds: vCPUs that deliver",
    "cpu.effective_vcpus",
    "resmeter_cpu_effective_effective_vcpus"};
inline constexpr ClaimSpec kCpuEffectiveAllowedVcpus{"cpu.effective",
                                                     "vcpus",
                                                     "count",
                                                     ClaimType::kInteger,
                                                     "vCPUs the challenge ran on (this process's cpuset)",
                                                     {},
                                                     "resmeter_cpu_effective_vcpus"};
inline constexpr ClaimSpec kCpuEffectiveRatio{"cpu.effective",
                                              "effective_ratio",
                                              "ratio",
                                              ClaimType::kNumber,
                                              "effective_vcpus / vcpus",
                                              {},
                                              "resmeter_cpu_effective_effective_ratio"};
inline constexpr ClaimSpec kCpuEffectiveVcpusMin{"cpu.effective",
                                                 "effective_vcpus_min",
                                                 "count",
                                                 ClaimType::kNumber,
                                                 "smallest speed-up of the rounds",
                                                 {},
                                                 "resmeter_cpu_effective_effective_vcpus_min"};
inline constexpr ClaimSpec kCpuEffectiveVcpusMax{"cpu.effective",
                                                 "effective_vcpus_max",
                                                 "count",
                                                 ClaimType::kNumber,
                                                 "largest speed-up of the rounds",
                                                 {},
                                                 "resmeter_cpu_effective_effective_vcpus_max"};
inline constexpr ClaimSpec kCpuEffectiveConcurrentSpeed{
    "cpu.effective",
    "concurrent_speed_ratio",
    "ratio",
    ClaimType::kNumber,
    "running speed of one vCPU while all run (typical chunk rate) over its speed alone, median of the "
    "rounds: "
    "below 1 for SMT siblings, shared host cores or a lower all-core clock, not for a quota",
    {},
    "resmeter_cpu_effective_concurrent_speed_ratio"};
inline constexpr ClaimSpec kCpuEffectiveRounds{
    "cpu.effective", "rounds", "", ClaimType::kArray,
    "per round: single-vCPU and all-vCPU rates, concurrent speed, throttled seconds, speed-up"};
inline constexpr const ClaimSpec* kCpuEffectiveClaims[] = {
    &kCpuEffectiveMethod,   &kCpuEffectiveVcpus,    &kCpuEffectiveAllowedVcpus,    &kCpuEffectiveRatio,
    &kCpuEffectiveVcpusMin, &kCpuEffectiveVcpusMax, &kCpuEffectiveConcurrentSpeed, &kCpuEffectiveRounds};

}  // namespace resmeter
