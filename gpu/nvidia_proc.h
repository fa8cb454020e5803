// NvidiaProc: the NVIDIA kernel driver's own view of its GPUs, from
// <proc_root>/driver/nvidia/version and
// <proc_root>/driver/nvidia/gpus/<bus id>/information.
//
// This is a second source next to NVML (a user-space library that can be
// swapped): the kernel module writes these files itself. Pure functions over
// an Env; thread-safe as long as the Env is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/result.h"

namespace resmeter {

// One GPU directory of /proc/driver/nvidia/gpus.
struct NvidiaProcGpu {
  std::string bus_id;                   // normalized from "Bus Location" (or the directory name)
  std::string model;                    // "Model:"
  std::string uuid;                     // "GPU UUID:"
  std::string vbios_version;            // "Video BIOS:"
  std::string bus_type;                 // "Bus Type:"
  std::optional<int64_t> device_minor;  // "Device Minor:" (/dev/nvidiaN)
  std::optional<bool> excluded;         // "GPU Excluded:"
};

struct NvidiaProcInfo {
  bool driver_loaded = false;         // <proc_root>/driver/nvidia exists
  std::string kernel_module_version;  // from the NVRM version line, empty if unknown
  std::vector<NvidiaProcGpu> gpus;    // sorted by bus_id
};

// Reads the driver's proc files; an absent driver is driver_loaded=false, not an error.
Result<NvidiaProcInfo> ReadNvidiaProc(const Env& env, const std::string& proc_root);

// Parses one "information" file ("Key: \t value" lines).
NvidiaProcGpu ParseNvidiaGpuInformation(const std::string& text);

// Extracts the version from /proc/driver/nvidia/version's "NVRM version:" line
// (proprietary and open kernel module formats); nullopt when absent.
std::optional<std::string> ParseNvrmVersion(const std::string& text);

}  // namespace resmeter
