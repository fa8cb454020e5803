// Declared claims of disk.io. Each workload at a queue depth is a family
// member ("rand_read_qd32_ios_per_second"); fsync runs at queue depth 1
// only and keeps its own keys ("fsync_latency_p99_seconds").
// See claims/claim_spec.h.
#pragma once

#include "claims/claim_spec.h"

namespace resmeter {

// The workload placeholder of the queue-depth families.
#define RESMETER_DISK_QD \
  "{workload:seq_read|rand_read|seq_write|rand_write|rand_read_large}_qd{queue_depth:#}_"
#define RESMETER_DISK_QD_SPEC(name, suffix, unit, type, meaning, policy)                     \
  inline constexpr ClaimSpec name{"disk.io", RESMETER_DISK_QD suffix,   unit, type, meaning, \
                                  policy,    "resmeter_disk_io_" suffix};
#define RESMETER_DISK_FSYNC_SPEC(name, suffix, unit, type, meaning, policy) \
  inline constexpr ClaimSpec name{                                          \
      "disk.io", "fsync_" suffix, unit, type, meaning, policy, "resmeter_disk_io_fsync_" suffix};

RESMETER_DISK_QD_SPEC(kDiskBytesPerSecond, "bytes_per_second", "bytes/s", ClaimType::kNumber,
                      "bytes moved per second in the measured window",
                      "disk.seq_read_mb_per_second, disk.seq_write_mb_per_second")
RESMETER_DISK_QD_SPEC(kDiskIosPerSecond, "ios_per_second", "1/s", ClaimType::kNumber,
                      "I/Os completed per second in the measured window",
                      "disk.rand_read_iops, disk.rand_write_iops")
RESMETER_DISK_QD_SPEC(kDiskIos, "ios", "count", ClaimType::kInteger, "I/Os completed in the measured window",
                      "")
RESMETER_DISK_QD_SPEC(kDiskLatencyMin, "latency_min_seconds", "seconds", ClaimType::kNumber, "fastest I/O",
                      "")
RESMETER_DISK_QD_SPEC(kDiskLatencyMean, "latency_mean_seconds", "seconds", ClaimType::kNumber,
                      "mean I/O latency", "")
RESMETER_DISK_QD_SPEC(kDiskLatencyP50, "latency_p50_seconds", "seconds", ClaimType::kNumber,
                      "median I/O latency", "")
RESMETER_DISK_QD_SPEC(kDiskLatencyP90, "latency_p90_seconds", "seconds", ClaimType::kNumber,
                      "90th percentile I/O latency", "")
RESMETER_DISK_QD_SPEC(kDiskLatencyP99, "latency_p99_seconds", "seconds", ClaimType::kNumber,
                      "99th percentile I/O latency", "disk.rand_read_p99_ms, disk.rand_write_p99_ms")
RESMETER_DISK_QD_SPEC(kDiskLatencyP999, "latency_p999_seconds", "seconds", ClaimType::kNumber,
                      "99.9th percentile I/O latency", "")
RESMETER_DISK_QD_SPEC(kDiskLatencyMax, "latency_max_seconds", "seconds", ClaimType::kNumber, "slowest I/O",
                      "")

RESMETER_DISK_FSYNC_SPEC(kDiskFsyncBytesPerSecond, "bytes_per_second", "bytes/s", ClaimType::kNumber,
                         "bytes written per second by the write+fsync loop", "")
RESMETER_DISK_FSYNC_SPEC(kDiskFsyncIosPerSecond, "ios_per_second", "1/s", ClaimType::kNumber,
                         "write+fsync pairs completed per second", "")
RESMETER_DISK_FSYNC_SPEC(kDiskFsyncIos, "ios", "count", ClaimType::kInteger,
                         "write+fsync pairs completed in the measured window", "")
RESMETER_DISK_FSYNC_SPEC(kDiskFsyncLatencyMin, "latency_min_seconds", "seconds", ClaimType::kNumber,
                         "fastest write+fsync", "")
RESMETER_DISK_FSYNC_SPEC(kDiskFsyncLatencyMean, "latency_mean_seconds", "seconds", ClaimType::kNumber,
                         "mean write+fsync latency", "")
RESMETER_DISK_FSYNC_SPEC(kDiskFsyncLatencyP50, "latency_p50_seconds", "seconds", ClaimType::kNumber,
                         "median write+fsync latency", "")
RESMETER_DISK_FSYNC_SPEC(kDiskFsyncLatencyP90, "latency_p90_seconds", "seconds", ClaimType::kNumber,
                         "90th percentile write+fsync latency", "")
RESMETER_DISK_FSYNC_SPEC(kDiskFsyncLatencyP99, "latency_p99_seconds", "seconds", ClaimType::kNumber,
                         "99th percentile write+fsync latency", "disk.fsync_p99_ms")
RESMETER_DISK_FSYNC_SPEC(kDiskFsyncLatencyP999, "latency_p999_seconds", "seconds", ClaimType::kNumber,
                         "99.9th percentile write+fsync latency", "")
RESMETER_DISK_FSYNC_SPEC(kDiskFsyncLatencyMax, "latency_max_seconds", "seconds", ClaimType::kNumber,
                         "slowest write+fsync", "")

// Every latency bucket in fio's json+ layout (core/fio_latency_bins.h): a
// buyer can recompute any percentile and compare with fio. No gauge.
inline constexpr ClaimSpec kDiskLatencyHistogram{
    "disk.io", RESMETER_DISK_QD "latency_histogram", "", ClaimType::kObject,
    "I/O latency histogram in fio's json+ bucket layout (bucket start in ns -> I/Os)"};
inline constexpr ClaimSpec kDiskFsyncLatencyHistogram{
    "disk.io", "fsync_latency_histogram", "", ClaimType::kObject,
    "write+fsync latency histogram in fio's json+ bucket layout (bucket start in ns -> I/Os)"};

// rand_read_large: random reads over the whole device (or a large file),
// with the shape of their latency distribution (meters/disk/disk_latency_modes.h).
#define RESMETER_DISK_LARGE "rand_read_large_qd{queue_depth:#}_"
inline constexpr ClaimSpec kDiskLargeWorkingSetBytes{
    "disk.io",
    RESMETER_DISK_LARGE "working_set_bytes",
    "bytes",
    ClaimType::kInteger,
    "bytes the large random-read workload spread its reads over",
    {},
    "resmeter_disk_io_large_working_set_bytes"};
inline constexpr ClaimSpec kDiskLargeLatencyBimodal{
    "disk.io",
    RESMETER_DISK_LARGE "latency_bimodal",
    "",
    ClaimType::kBool,
    "the large-working-set read latencies form two modes (part served from a cache)",
    {},
    "resmeter_disk_io_large_latency_bimodal"};
inline constexpr ClaimSpec kDiskLargeFastModeFraction{
    "disk.io",
    RESMETER_DISK_LARGE "fast_mode_fraction",
    "ratio",
    ClaimType::kNumber,
    "fraction of the large-working-set reads in the fast mode (1 when not bimodal)",
    {},
    "resmeter_disk_io_large_fast_mode_ratio"};
inline constexpr ClaimSpec kDiskLargeFastModeP50{
    "disk.io", RESMETER_DISK_LARGE "fast_mode_latency_p50_seconds", "seconds", ClaimType::kNumber,
    "median latency of the fast mode, when bimodal"};
inline constexpr ClaimSpec kDiskLargeSlowModeP50{
    "disk.io", RESMETER_DISK_LARGE "slow_mode_latency_p50_seconds", "seconds", ClaimType::kNumber,
    "median latency of the slow mode (the device), when bimodal"};
inline constexpr ClaimSpec kDiskLargeModeSplit{"disk.io", RESMETER_DISK_LARGE "mode_split_seconds", "seconds",
                                               ClaimType::kNumber,
                                               "latency separating the two modes, when bimodal"};
#undef RESMETER_DISK_LARGE

#undef RESMETER_DISK_QD_SPEC
#undef RESMETER_DISK_FSYNC_SPEC
#undef RESMETER_DISK_QD

// The per-workload statistics, in the order a workload's claims are written.
struct DiskWorkloadSpecs {
  const ClaimSpec* bytes_per_second;
  const ClaimSpec* ios_per_second;
  const ClaimSpec* ios;
  const ClaimSpec* latency_min;
  const ClaimSpec* latency_mean;
  const ClaimSpec* latency_p50;
  const ClaimSpec* latency_p90;
  const ClaimSpec* latency_p99;
  const ClaimSpec* latency_p999;
  const ClaimSpec* latency_max;
  const ClaimSpec* latency_histogram;
};
inline constexpr DiskWorkloadSpecs kDiskQueueDepthSpecs{
    &kDiskBytesPerSecond,  &kDiskIosPerSecond, &kDiskIos,        &kDiskLatencyMin,  &kDiskLatencyMean,
    &kDiskLatencyP50,      &kDiskLatencyP90,   &kDiskLatencyP99, &kDiskLatencyP999, &kDiskLatencyMax,
    &kDiskLatencyHistogram};
inline constexpr DiskWorkloadSpecs kDiskFsyncSpecs{
    &kDiskFsyncBytesPerSecond, &kDiskFsyncIosPerSecond,    &kDiskFsyncIos,
    &kDiskFsyncLatencyMin,     &kDiskFsyncLatencyMean,     &kDiskFsyncLatencyP50,
    &kDiskFsyncLatencyP90,     &kDiskFsyncLatencyP99,      &kDiskFsyncLatencyP999,
    &kDiskFsyncLatencyMax,     &kDiskFsyncLatencyHistogram};

inline constexpr const ClaimSpec* kDiskIoClaims[] = {&kDiskBytesPerSecond,
                                                     &kDiskIosPerSecond,
                                                     &kDiskIos,
                                                     &kDiskLatencyMin,
                                                     &kDiskLatencyMean,
                                                     &kDiskLatencyP50,
                                                     &kDiskLatencyP90,
                                                     &kDiskLatencyP99,
                                                     &kDiskLatencyP999,
                                                     &kDiskLatencyMax,
                                                     &kDiskFsyncBytesPerSecond,
                                                     &kDiskFsyncIosPerSecond,
                                                     &kDiskFsyncIos,
                                                     &kDiskFsyncLatencyMin,
                                                     &kDiskFsyncLatencyMean,
                                                     &kDiskFsyncLatencyP50,
                                                     &kDiskFsyncLatencyP90,
                                                     &kDiskFsyncLatencyP99,
                                                     &kDiskFsyncLatencyP999,
                                                     &kDiskFsyncLatencyMax,
                                                     &kDiskLatencyHistogram,
                                                     &kDiskFsyncLatencyHistogram,
                                                     &kDiskLargeWorkingSetBytes,
                                                     &kDiskLargeLatencyBimodal,
                                                     &kDiskLargeFastModeFraction,
                                                     &kDiskLargeFastModeP50,
                                                     &kDiskLargeSlowModeP50,
                                                     &kDiskLargeModeSplit};

}  // namespace resmeter
