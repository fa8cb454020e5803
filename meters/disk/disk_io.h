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
//
// Thread behaviour: Measure() runs on the framework's thread and joins the
// engine threads it starts before returning.
#pragma once

#include <nlohmann/json.hpp>

#include "meters/disk/io_engine.h"
#include "meters/api/meter.h"

namespace resmeter {

class DiskIoMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;
};

// Runs one workload with `engine` (fsync uses RunFsyncJob). Shared with bench/.
Result<IoJobStats> RunDiskWorkload(IoEngine& engine, const IoJob& job);
// Adds the claims of one finished workload (names prefixed by w.name).
void AddDiskWorkloadClaims(const DiskWorkload& w, const IoJobStats& stats, nlohmann::json* claims);

}  // namespace resmeter
