#include "meters/disk/disk_workload_plan.h"

#include <algorithm>
#include <set>

namespace resmeter {
namespace {

const char* PatternName(IoPattern p) { return p == IoPattern::kSequential ? "sequential" : "random"; }

const char* OpName(IoOp op) {
  switch (op) {
    case IoOp::kRead:
      return "read";
    case IoOp::kWrite:
      return "write";
    case IoOp::kFsync:
      return "fsync";
  }
  return "?";
}

// The span of the workloads other than rand_read_large.
uint64_t RegularSpan(const DiskTargetShape& t) {
  return t.regular_span_bytes == 0 ? t.size_bytes : std::min(t.regular_span_bytes, t.size_bytes);
}

// Checks one block size option against the target; names the key on error.
Status CheckBlockSize(const std::string& key, uint64_t bs, const DiskTargetShape& target) {
  if (bs == 0 || bs % target.alignment_bytes != 0) {
    return Status::InvalidArgument("meters.disk.io." + key + " = " + std::to_string(bs) +
                                   " is not a multiple of the target's alignment of " +
                                   std::to_string(target.alignment_bytes) + " bytes");
  }
  const uint64_t span = RegularSpan(target);
  if (bs > span) {
    return Status::InvalidArgument("meters.disk.io." + key + " = " + std::to_string(bs) +
                                   " is larger than the target (" + std::to_string(span) + " bytes)");
  }
  return Status::Ok();
}

}  // namespace

nlohmann::json DiskWorkload::ConditionsJson() const {
  nlohmann::json j = {{"pattern", PatternName(pattern)},
                      {"op", OpName(op)},
                      {"block_size_bytes", block_size_bytes},
                      {"queue_depth", queue_depth},
                      {"warmup_seconds", warmup_seconds},
                      {"duration_seconds", duration_seconds},
                      {"span_bytes", span_bytes}};
  if (large_working_set) j["large_working_set"] = true;
  return j;
}

double DiskWorkloadPlan::PlannedSeconds() const {
  double s = 0;
  for (const auto& w : workloads) s += w.warmup_seconds + w.duration_seconds;
  return s;
}

const std::vector<std::string>& DiskWorkloadKinds() {
  static const std::vector<std::string> kKinds = {"seq_read",   "seq_write", "rand_read",
                                                  "rand_write", "fsync",     "rand_read_large"};
  return kKinds;
}

uint64_t ScratchFileBytesFor(const Options& options) {
  const uint64_t regular = static_cast<uint64_t>(options.Int("file_size_bytes"));
  bool large = false;
  for (const auto& k : options.Strings("workloads")) large |= (k == "rand_read_large");
  if (!large) return regular;
  return std::max(regular, static_cast<uint64_t>(options.Int("large_working_set_bytes")));
}

Result<DiskWorkloadPlan> PlanDiskWorkloads(const Options& options, const DiskTargetShape& target) {
  if (target.alignment_bytes == 0 || target.size_bytes < target.alignment_bytes) {
    return Status::InvalidArgument("disk.io target of " + std::to_string(target.size_bytes) +
                                   " bytes is too small");
  }
  const uint64_t seq_bs = static_cast<uint64_t>(options.Int("sequential_block_size_bytes"));
  const uint64_t rand_bs = static_cast<uint64_t>(options.Int("random_block_size_bytes"));
  const int deep = static_cast<int>(options.Int("deep_queue_depth"));
  const double warmup = options.Double("warmup_seconds");
  const double duration = options.Double("duration_seconds");

  std::vector<std::string> kinds = options.Strings("workloads");
  std::set<std::string> wanted;
  for (const auto& k : kinds) {
    bool known = false;
    for (const auto& valid : DiskWorkloadKinds()) known |= (k == valid);
    if (!known) {
      return Status::InvalidArgument(
          "meters.disk.io.workloads: unknown workload '" + k +
          "' (known: seq_read, seq_write, rand_read, rand_write, fsync, rand_read_large)");
    }
    wanted.insert(k);
  }
  if (wanted.empty()) return Status::InvalidArgument("meters.disk.io.workloads is empty");

  bool need_seq = wanted.count("seq_read") || wanted.count("seq_write");
  bool need_rand = wanted.count("rand_read") || wanted.count("rand_write") || wanted.count("fsync") ||
                   wanted.count("rand_read_large");
  if (need_seq) RESMETER_RETURN_IF_ERROR(CheckBlockSize("sequential_block_size_bytes", seq_bs, target));
  if (need_rand) RESMETER_RETURN_IF_ERROR(CheckBlockSize("random_block_size_bytes", rand_bs, target));

  DiskWorkloadPlan plan;
  // Order: reads before writes so a read never measures freshly written cache
  // lines of a device; fsync last.
  struct Kind {
    const char* name;
    IoPattern pattern;
    IoOp op;
  };
  const Kind kOrder[] = {{"seq_read", IoPattern::kSequential, IoOp::kRead},
                         {"rand_read", IoPattern::kRandom, IoOp::kRead},
                         {"rand_read_large", IoPattern::kRandom, IoOp::kRead},
                         {"seq_write", IoPattern::kSequential, IoOp::kWrite},
                         {"rand_write", IoPattern::kRandom, IoOp::kWrite},
                         {"fsync", IoPattern::kRandom, IoOp::kFsync}};
  for (const Kind& k : kOrder) {
    if (!wanted.count(k.name)) continue;
    if (k.op != IoOp::kRead && target.read_only) {
      plan.skipped.push_back(std::string(k.name) + " (read-only block device)");
      continue;
    }
    std::vector<int> depths = {1};
    if (k.op != IoOp::kFsync && deep > 1) depths.push_back(deep);
    for (int qd : depths) {
      DiskWorkload w;
      w.pattern = k.pattern;
      w.op = k.op;
      w.block_size_bytes = k.pattern == IoPattern::kSequential ? seq_bs : rand_bs;
      w.queue_depth = qd;
      w.warmup_seconds = warmup;
      w.duration_seconds = duration;
      w.large_working_set = std::string(k.name) == "rand_read_large";
      w.span_bytes = w.large_working_set ? target.size_bytes : RegularSpan(target);
      w.name = k.op == IoOp::kFsync ? std::string("fsync") : std::string(k.name) + "_qd" + std::to_string(qd);
      plan.workloads.push_back(std::move(w));
    }
  }
  if (plan.workloads.empty()) {
    return Status::InvalidArgument(
        "meters.disk.io.workloads: nothing to run on a read-only block device "
        "(choose seq_read or rand_read)");
  }
  return plan;
}

}  // namespace resmeter
