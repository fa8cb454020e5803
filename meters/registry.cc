// The one table of meters. Keep rows in report order.
#include "meters/registry.h"

#include "meters/disk_io.h"

namespace resmeter {

const std::vector<MeterInfo>& MeterRegistry() {
  static const std::vector<MeterInfo> kMeters = {
      {"disk.io", MeterKind::kHeavy, 120, true,
       "disk bytes/s, IOPS and latency percentiles (seq/rand read/write at qd 1 and deep, fsync) with O_DIRECT",
       {
           {"target", OptionType::kString, "file", {}, {}, {"file", "block_device"},
            "file: a scratch file in `directory`; block_device: `block_device`, read-only"},
           {"directory", OptionType::kString, "/var/tmp", {}, {}, {},
            "real path (no symlinks) of a writable directory for the scratch file"},
           {"file_size_bytes", OptionType::kInt, 268435456, 1048576, 1099511627776.0, {},
            "scratch file size (default 256 MiB)"},
           {"free_space_margin_bytes", OptionType::kInt, 67108864, 0, 1099511627776.0, {},
            "refuse to run unless this much stays free besides the file"},
           {"block_device", OptionType::kString, "", {}, {}, {},
            "block device measured read-only when target is block_device"},
           {"direct", OptionType::kBool, true, {}, {}, {}, "O_DIRECT: bypass the page cache"},
           {"engine", OptionType::kString, "auto", {}, {}, {"auto", "io_uring", "psync"},
            "I/O engine; auto = io_uring, psync when io_uring is unavailable"},
           {"workloads", OptionType::kStringList,
            nlohmann::json::array({"seq_read", "rand_read", "seq_write", "rand_write", "fsync"}), {}, {}, {},
            "subset of seq_read, rand_read, seq_write, rand_write, fsync"},
           {"warmup_seconds", OptionType::kDouble, 0.5, 0, 60, {}, "uncounted warm-up per workload"},
           {"duration_seconds", OptionType::kDouble, 2.0, 0.1, 600, {}, "measured window per workload"},
           {"sequential_block_size_bytes", OptionType::kInt, 1048576, 4096, 67108864, {},
            "block size of sequential workloads"},
           {"random_block_size_bytes", OptionType::kInt, 4096, 4096, 67108864, {},
            "block size of random workloads and fsync"},
           {"deep_queue_depth", OptionType::kInt, 32, 1, 1024, {}, "the deep queue depth (1 = qd1 only)"},
       },
       [] { return std::make_unique<DiskIoMeter>(); }},
  };
  return kMeters;
}

const MeterInfo* FindMeter(const std::string& name) {
  for (const auto& m : MeterRegistry()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace resmeter
