// DiskWorkloadPlan: turns the disk.io options into the ordered list of
// workloads to run (sequential/random read/write at queue depth 1 and at the
// deep queue depth, fsync latency), and validates them against the target.
//
// rand_read_large: random reads across a working set far larger than a host
// page cache could hold (the whole block device, or a scratch file of
// large_working_set_bytes), so that reads a cache in front of the disk serves
// show up as a second, fast latency mode (meters/disk_latency_modes.h)
// instead of passing as a fast disk. The other workloads span the first
// file_size_bytes of the scratch file (the whole device in block_device mode).
//
// Pure data and arithmetic: no I/O, no clock. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/option_spec.h"
#include "core/result.h"

namespace resmeter {

enum class IoPattern { kSequential, kRandom };
enum class IoOp { kRead, kWrite, kFsync };

// One time-based workload: warm-up (not counted), then the measured window.
struct DiskWorkload {
  std::string name;  // stable claim prefix, e.g. "seq_read_qd1", "fsync"
  IoPattern pattern = IoPattern::kSequential;
  IoOp op = IoOp::kRead;
  uint64_t block_size_bytes = 0;
  int queue_depth = 1;
  double warmup_seconds = 0;
  double duration_seconds = 0;
  uint64_t span_bytes = 0;         // offsets drawn from [0, span_bytes) of the target
  bool large_working_set = false;  // a rand_read_large workload

  // The workload's conditions object (signed with its claims).
  nlohmann::json ConditionsJson() const;
};

// What the planner needs to know about the target.
struct DiskTargetShape {
  uint64_t size_bytes = 0;          // file size, or the block device's size
  bool read_only = false;           // a block device: only read workloads
  uint64_t alignment_bytes = 4096;  // O_DIRECT alignment (logical block size)
  // The span of every workload but rand_read_large; 0 = the whole target.
  uint64_t regular_span_bytes = 0;
};

struct DiskWorkloadPlan {
  std::vector<DiskWorkload> workloads;
  std::vector<std::string> skipped;  // "seq_write_qd1 (read-only target)" etc.
  // Total planned I/O time in seconds (warm-ups plus windows).
  double PlannedSeconds() const;
};

// The workload kinds accepted in the `workloads` option.
const std::vector<std::string>& DiskWorkloadKinds();

// The scratch file size disk.io needs for `options`: file_size_bytes, or
// large_working_set_bytes when rand_read_large is wanted and larger.
uint64_t ScratchFileBytesFor(const Options& options);

// Builds the plan from disk.io options (see the registry row for the keys).
// Returns InvalidArgument naming the option when a value does not fit the
// target (block size not a multiple of the alignment, larger than the
// target, unknown workload kind, ...).
Result<DiskWorkloadPlan> PlanDiskWorkloads(const Options& options, const DiskTargetShape& target);

}  // namespace resmeter
