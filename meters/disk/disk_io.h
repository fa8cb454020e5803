// DiskIoMeter (`disk.io`): measures what the VM's disk really delivers —
// bytes/s, IOPS and the latency distribution of sequential and random reads
// and writes at queue depth 1 and a deep queue, plus fsync latency — on a
// scratch file it creates (meters/disk/disk_target.h) or, when configured, on a
// block device read-only. O_DIRECT by default, io_uring with a psync
// fallback (meters/disk/io_engine.h). Options: the disk.io row of
// meters/registry/registry.cc. The scratch file is removed after the run and, through
// core/temp_path_registry.h, on SIGINT/SIGTERM when the CLI installed the
// cleanup handler.
//
// Claims per workload W (seq_read_qd1, rand_write_qd32, fsync, ...):
//   W_bytes_per_second, W_ios_per_second, W_ios (count in the window),
//   W_latency_{min,mean,p50,p90,p99,p999,max}_seconds (omitted when no I/O
//   completed in the window). Conditions carry every parameter.
// rand_read_large_qdN (random reads over the whole device or a large file,
// meters/disk_workload_plan.h): its W_ios_per_second is the rate the device
// sustains, since a cache in front of it can hold only a small part of the
// working set. It adds W_working_set_bytes, W_latency_bimodal,
// W_fast_mode_fraction and, when bimodal, W_{fast,slow}_mode_latency_p50_seconds
// and W_mode_split_seconds, plus a disk_latency_bimodal finding
// (meters/disk_latency_modes.h). No "device rate" is derived from the slow
// mode alone: behind a token-bucket throttle most reads that reach the device
// complete fast too (the burst allowance), and only the rate says what the
// device sustains.
//
// Thread behaviour: Measure() runs on the framework's thread and joins the
// engine threads it starts before returning.
#pragma once

#include <nlohmann/json.hpp>

#include "meters/api/meter.h"
#include "meters/disk/disk_latency_modes.h"
#include "meters/disk/io_engine.h"

namespace resmeter {

class DiskIoMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;
};

// Runs one workload with `engine` (fsync uses RunFsyncJob). Shared with bench/.
Result<IoJobStats> RunDiskWorkload(IoEngine& engine, const IoJob& job);
// Adds the claims of one finished workload (names prefixed by w.name).
void AddDiskWorkloadClaims(const DiskWorkload& w, const IoJobStats& stats, nlohmann::json* claims);
// Adds the latency-mode claims of a rand_read_large workload; returns the modes found.
LatencyModes AddLargeWorkingSetClaims(const DiskWorkload& w, const IoJobStats& stats, nlohmann::json* claims);

}  // namespace resmeter
