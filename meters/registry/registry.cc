// The one table of meters, and selection from it. Keep rows in report order.
// It lives in the agent layer because it names meters from meters/ and gpu/.
#include "meters/registry/registry.h"

#include <set>

#include "claims/cpu_claim_specs.h"
#include "claims/disk_claim_specs.h"
#include "claims/gpu_claim_specs.h"
#include "claims/memory_claim_specs.h"
#include "claims/net_claim_specs.h"
#include "claims/time_claim_specs.h"
#include "gpu/cuda_challenge.h"
#include "gpu/gpu_devices_meter.h"
#include "meters/cpu/cpu_availability_meter.h"
#include "meters/cpu/cpu_effective_meter.h"
#include "meters/cpu/cpu_frequency_meter.h"
#include "meters/cpu/cpu_throttling_meter.h"
#include "meters/cpu/cpu_time.h"
#include "meters/cpu/cpu_topology.h"
#include "meters/disk/disk_io.h"
#include "meters/memory/cache_hierarchy_meter.h"
#include "meters/memory/memory_bandwidth_meter.h"
#include "meters/memory/memory_capacity.h"
#include "meters/memory/memory_latency_meter.h"
#include "meters/memory/memory_verified_meter.h"
#include "meters/net/net_latency.h"
#include "meters/net/net_throughput.h"
#include "timesource/time_meter.h"

namespace resmeter {

const std::vector<MeterInfo>& MeterRegistry() {
  static const std::vector<MeterInfo> kMeters = {
      {"cpu.topology",
       MeterKind::kLight,
       10,
       true,
       "packages, cores, threads, NUMA nodes and caches (hwloc), cross-checked with sysfs and /proc/cpuinfo",
       {},
       [] { return std::make_unique<CpuTopologyMeter>(); },
       kCpuTopologyClaims},
      {"cpu.time",
       MeterKind::kLight,
       10,
       true,
       "per-CPU and total CPU seconds by state, delivered vCPU-seconds and steal ratio over a window "
       "(/proc/stat)",
       {{"window_seconds",
         OptionType::kDouble,
         1.0,
         0.05,
         60.0,
         {},
         "sampling window in seconds; keep below the meter's timeout_seconds"}},
       [] { return std::make_unique<CpuTimeMeter>(); },
       kCpuTimeClaims},
      {"memory.capacity",
       MeterKind::kLight,
       10,
       true,
       "MemTotal/MemAvailable, huge pages and NUMA memory, cross-checked like with like across "
       "/proc/meminfo, "
       "/proc/zoneinfo, sysfs nodes and memory blocks, and hwloc",
       {{"mismatch_tolerance_ratio",
         OptionType::kDouble,
         0.05,
         0.0,
         1.0,
         {},
         "slack, as a fraction of MemTotal, of each like-with-like relation between memory sources before a "
         "finding"},
        {"reserved_tolerance_ratio",
         OptionType::kDouble,
         0.10,
         0.0,
         1.0,
         {},
         "largest fraction of the zones' present memory that may be missing from MemTotal (boot "
         "reservations) "
         "before a finding"}},
       [] { return std::make_unique<MemoryCapacityMeter>(); },
       kMemoryCapacityClaims},
      {"time",
       MeterKind::kLight,
       5.0,
       true,
       "time source: chronyd sync state, NTS, error bound, clock jumps (configured by time.*)",
       {},
       [] { return std::make_unique<TimeMeter>(); },
       kTimeClaims},
      {"cpu.frequency", MeterKind::kHeavy, 30, true,
       "per-core effective frequency (PMU or calibrated chain) vs nominal", CpuFrequencyOptions(),
       [] { return std::make_unique<CpuFrequencyMeter>(); }, kCpuFrequencyClaims},
      {"cpu.throttling", MeterKind::kHeavy, 60, true,
       "all cores loaded for a window: burst vs sustained frequency, trend", CpuThrottlingOptions(),
       [] { return std::make_unique<CpuThrottlingMeter>(); }, kCpuThrottlingClaims},
      {"cpu.availability", MeterKind::kHeavy, 60, true,
       "fraction of wall time each vCPU really ran a challenge", CpuAvailabilityOptions(),
       [] { return std::make_unique<CpuAvailabilityMeter>(); }, kCpuAvailabilityClaims},
      // Off by default: it saturates every vCPU for about 4 s, and on a machine shared with
      // other work its figure (and finding) reflect that work too; enable it where a
      // policy claims cpu.effective_vcpus.
      {"cpu.effective", MeterKind::kHeavy, 60, false,
       "effective vCPUs by challenge: parallel speed-up of an ALU-bound workload on all vCPUs against one",
       CpuEffectiveOptions(), [] { return std::make_unique<CpuEffectiveMeter>(); }, kCpuEffectiveClaims},
      {"cache.hierarchy", MeterKind::kHeavy, 60, true,
       "cache levels from a pointer-chase latency curve vs reported sizes", CacheHierarchyOptions(),
       [] { return std::make_unique<CacheHierarchyMeter>(); }, kCacheHierarchyClaims},
      {"memory.bandwidth", MeterKind::kHeavy, 60, true,
       "STREAM copy/scale/add/triad, one pinned thread per CPU", MemoryBandwidthOptions(),
       [] { return std::make_unique<MemoryBandwidthMeter>(); }, kMemoryBandwidthClaims},
      {"memory.latency", MeterKind::kHeavy, 60, true,
       "main-memory latency from a pointer chase far beyond the LLC", MemoryLatencyOptions(),
       [] { return std::make_unique<MemoryLatencyMeter>(); }, kMemoryLatencyClaims},
      // Off by default: it allocates and touches half of MemAvailable (GiBs, seconds, and
      // pressure on the guest's page cache); enable it where a policy claims memory.verified_bytes.
      {"memory.verified", MeterKind::kHeavy, 300, false,
       "RAM by challenge: a share of MemAvailable written with a keyed pattern, read back and timed per GiB "
       "(swapped or compressed GiBs are slow)",
       MemoryVerifiedOptions(), [] { return std::make_unique<MemoryVerifiedMeter>(); },
       kMemoryVerifiedClaims},
      {"disk.io",
       MeterKind::kHeavy,
       120,
       true,
       "disk bytes/s, IOPS and latency percentiles (seq/rand read/write at qd 1 and deep, fsync) with "
       "O_DIRECT",
       {
           {"target",
            OptionType::kString,
            "file",
            {},
            {},
            {"file", "block_device"},
            "file: a scratch file in `directory`; block_device: `block_device`, read-only"},
           {"directory",
            OptionType::kString,
            "/var/tmp",
            {},
            {},
            {},
            "real path (no symlinks) of a writable directory for the scratch file"},
           {"file_size_bytes",
            OptionType::kInt,
            268435456,
            1048576,
            1099511627776.0,
            {},
            "scratch file size (default 256 MiB)"},
           {"free_space_margin_bytes",
            OptionType::kInt,
            67108864,
            0,
            1099511627776.0,
            {},
            "refuse to run unless this much stays free besides the file"},
           {"block_device",
            OptionType::kString,
            "",
            {},
            {},
            {},
            "block device measured read-only when target is block_device"},
           {"direct", OptionType::kBool, true, {}, {}, {}, "O_DIRECT: bypass the page cache"},
           {"engine",
            OptionType::kString,
            "auto",
            {},
            {},
            {"auto", "io_uring", "psync"},
            "I/O engine; auto = io_uring, psync when io_uring is unavailable"},
           {"workloads",
            OptionType::kStringList,
            nlohmann::json::array({"seq_read", "rand_read", "seq_write", "rand_write", "fsync"}),
            {},
            {},
            {},
            "subset of seq_read, rand_read, seq_write, rand_write, fsync, rand_read_large (random reads over "
            "the whole block device or a large_working_set_bytes file: exposes a cache in front of the "
            "disk)"},
           {"large_working_set_bytes",
            OptionType::kInt,
            int64_t{4294967296},
            1048576,
            1099511627776.0,
            {},
            "scratch file size for rand_read_large in file mode (the whole device in block_device mode)"},
           {"warmup_seconds", OptionType::kDouble, 0.5, 0, 60, {}, "uncounted warm-up per workload"},
           {"duration_seconds", OptionType::kDouble, 2.0, 0.1, 600, {}, "measured window per workload"},
           {"sequential_block_size_bytes",
            OptionType::kInt,
            1048576,
            4096,
            67108864,
            {},
            "block size of sequential workloads"},
           {"random_block_size_bytes",
            OptionType::kInt,
            4096,
            4096,
            67108864,
            {},
            "block size of random workloads and fsync"},
           {"deep_queue_depth", OptionType::kInt, 32, 1, 1024, {}, "the deep queue depth (1 = qd1 only)"},
       },
       [] { return std::make_unique<DiskIoMeter>(); },
       kDiskIoClaims},
      {"net.throughput", MeterKind::kHeavy, 90, true, "TCP throughput to resmeter peers, co-signed by them",
       NetThroughputMeter::OptionSpecs(), [] { return std::make_unique<NetThroughputMeter>(); },
       kNetThroughputClaims},
      {"net.latency", MeterKind::kHeavy, 30, true, "TCP round-trip time to resmeter peers, co-signed by them",
       NetLatencyMeter::OptionSpecs(), [] { return std::make_unique<NetLatencyMeter>(); }, kNetLatencyClaims},
      {"gpu.devices", MeterKind::kLight, 10.0, true,
       "GPUs from PCI sysfs, NVML, the NVIDIA driver and amdgpu, cross-checked against each other",
       GpuDevicesMeterOptions(), [] { return std::make_unique<GpuDevicesMeter>(); }, kGpuDevicesClaims},
      {"gpu.compute", MeterKind::kHeavy, 120.0, true,
       "timed, exactly verified FP32 matrix multiply on each NVIDIA GPU through the CUDA driver API",
       CudaChallengeMeterOptions(), [] { return std::make_unique<CudaChallengeMeter>(); }, kGpuComputeClaims},
  };
  return kMeters;
}

const MeterInfo* FindMeter(const std::string& name) {
  for (const auto& m : MeterRegistry()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

Result<std::vector<const MeterInfo*>> SelectMeters(const std::vector<std::string>& only,
                                                   const std::vector<std::string>& skip,
                                                   const std::function<bool(const MeterInfo&)>& enabled) {
  auto known = [](const std::string& name) { return FindMeter(name) != nullptr; };
  std::string names;
  for (const auto& m : MeterRegistry()) names += (names.empty() ? "" : ", ") + m.name;
  for (const auto* list : {&only, &skip}) {
    for (const auto& n : *list) {
      if (!known(n)) return Status::InvalidArgument("unknown meter '" + n + "' (known: " + names + ")");
    }
  }
  std::set<std::string> only_set(only.begin(), only.end()), skip_set(skip.begin(), skip.end());
  std::vector<const MeterInfo*> out;
  for (const auto& m : MeterRegistry()) {
    bool selected = only.empty() ? enabled(m) : only_set.count(m.name) > 0;
    if (selected && !skip_set.count(m.name)) out.push_back(&m);
  }
  return out;
}

}  // namespace resmeter
