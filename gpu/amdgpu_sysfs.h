// AmdGpuSysfs: what the amdgpu kernel driver exposes about one GPU under its
// PCI sysfs directory (<sys_root>/bus/pci/devices/<bus id>/): VRAM size,
// VBIOS version, product name/number, serial and unique id.
//
// Only attributes present are filled (older kernels and some boards lack
// product_name/serial_number). Pure functions over an Env.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/env.h"

namespace resmeter {

struct AmdGpuSysfs {
  std::optional<uint64_t> vram_total_bytes;      // mem_info_vram_total
  std::optional<uint64_t> vis_vram_total_bytes;  // mem_info_vis_vram_total
  std::optional<uint64_t> gtt_total_bytes;       // mem_info_gtt_total
  std::string vbios_version;                     // vbios_version
  std::string product_name;                      // product_name
  std::string product_number;                    // product_number
  std::string serial_number;                     // serial_number
  std::string unique_id;                         // unique_id (a stable per-chip id)
  bool any() const { return vram_total_bytes || !vbios_version.empty() || !unique_id.empty(); }
};

// Reads the amdgpu attributes of the device at bus_id ("0000:03:00.0").
AmdGpuSysfs ReadAmdGpuSysfs(const Env& env, const std::string& sys_root, const std::string& bus_id);

}  // namespace resmeter
