// PCI scan: finds display/3D controllers (GPUs) in PCI sysfs
// (<sys_root>/bus/pci/devices/*), reading ids, the bound driver (from
// uevent), the NUMA node and the PCIe link.
//
// Pure functions over an Env; thread-safe as long as the Env is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/result.h"

namespace resmeter {

inline constexpr uint16_t kPciVendorNvidia = 0x10de;
inline constexpr uint16_t kPciVendorAmd = 0x1002;

// One GPU as PCI sysfs shows it. Optional fields are absent from sysfs.
struct PciGpu {
  std::string bus_id;       // canonical "dddd:bb:dd.f", lowercase
  uint32_t class_code = 0;  // 24-bit class, e.g. 0x030200
  uint16_t vendor_id = 0;
  uint16_t device_id = 0;
  std::optional<uint16_t> subsystem_vendor_id;
  std::optional<uint16_t> subsystem_device_id;
  std::optional<uint8_t> revision;
  std::string driver;                // bound driver ("nvidia", "amdgpu"), empty when none
  std::optional<int64_t> numa_node;  // absent when sysfs says -1 or lacks the file
  std::optional<double> link_speed_transfers_per_second;  // current
  std::optional<int64_t> link_width_lanes;                // current
  std::optional<double> max_link_speed_transfers_per_second;
  std::optional<int64_t> max_link_width_lanes;
};

// The result of one scan: the GPUs and how many PCI functions were looked at,
// so "zero GPUs among N devices" is a measurement, not a default.
struct PciScan {
  bool pci_bus_present = false;  // <sys_root>/bus/pci/devices exists
  int64_t devices_scanned = 0;
  std::vector<PciGpu> gpus;  // sorted by bus_id
};

// True for the PCI classes of GPUs: 0x0300 VGA, 0x0302 3D, 0x0380 other display.
bool IsGpuClass(uint32_t class_code);

// Scans <sys_root>/bus/pci/devices. A system without a PCI bus yields an
// empty scan; NotFound only when <sys_root>/bus itself is missing (sysfs not
// mounted or a wrong --sys-root).
Result<PciScan> ScanPciGpus(const Env& env, const std::string& sys_root);

// Normalizes a PCI address ("00000000:3B:00.0", "0000:3b:00.0", "3b:00.0")
// to "dddd:bb:dd.f" lowercase; nullopt when it does not parse.
std::optional<std::string> NormalizePciBusId(const std::string& text);

// Parses a sysfs link speed ("16.0 GT/s PCIe", "2.5 GT/s") to transfers/s.
std::optional<double> ParseLinkSpeed(const std::string& text);

// "10de" style four-digit lowercase hex.
std::string Hex4(uint16_t v);

}  // namespace resmeter
