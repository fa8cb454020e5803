// DiskWorkloadPlan: turns the disk.io options into the ordered list of
// workloads to run (sequential/random read/write at queue depth 1 and at the
// deep queue depth, fsync latency), and validates them against the target.
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

  // The workload's conditions object (signed with its claims).
  nlohmann::json ConditionsJson() const;
};

// What the planner needs to know about the target.
struct DiskTargetShape {
  uint64_t size_bytes = 0;          // file size, or the block device's size
  bool read_only = false;           // a block device: only read workloads
  uint64_t alignment_bytes = 4096;  // O_DIRECT alignment (logical block size)
};

struct DiskWorkloadPlan {
  std::vector<DiskWorkload> workloads;
  std::vector<std::string> skipped;  // "seq_write_qd1 (read-only target)" etc.
  // Total planned I/O time in seconds (warm-ups plus windows).
  double PlannedSeconds() const;
};

// The workload kinds accepted in the `workloads` option.
const std::vector<std::string>& DiskWorkloadKinds();

// Builds the plan from disk.io options (see the registry row for the keys).
// Returns InvalidArgument naming the option when a value does not fit the
// target (block size not a multiple of the alignment, larger than the
// target, unknown workload kind, ...).
Result<DiskWorkloadPlan> PlanDiskWorkloads(const Options& options, const DiskTargetShape& target);

}  // namespace resmeter
