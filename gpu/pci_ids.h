// PciIds: names for PCI vendor, device and subsystem ids, parsed from the
// pci.ids database (Debian's `pci.ids` package installs it at
// /usr/share/misc/pci.ids).
//
// Only the vendor/device/subsystem part of the file is kept (the class
// section after the first "C " line is ignored). Lookups of unknown ids
// return nullopt; callers then show the raw hex ids. Immutable after
// construction, so safe to share between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/env.h"
#include "core/result.h"

namespace resmeter {

// Where Debian's pci.ids package installs the database.
inline constexpr const char* kDefaultPciIdsPath = "/usr/share/misc/pci.ids";

class PciIds {
 public:
  PciIds() = default;

  // Parses pci.ids text, keeping device and subsystem entries only for the
  // vendors in `only_vendors` (all when empty; vendor names are always kept).
  // Malformed lines are skipped (the file is hand-edited upstream);
  // Corruption only when no vendor line parses.
  static Result<PciIds> Parse(std::string_view text, const std::vector<uint16_t>& only_vendors = {});
  // Reads and parses the database at `path` (NotFound when absent).
  static Result<PciIds> Load(const Env& env, const std::string& path,
                             const std::vector<uint16_t>& only_vendors = {});

  // Vendor name, e.g. "NVIDIA Corporation" for 0x10de.
  std::optional<std::string> Vendor(uint16_t vendor) const;
  // Device name, e.g. "GH100 [H100 SXM5 80GB]" for 10de:2330.
  std::optional<std::string> Device(uint16_t vendor, uint16_t device) const;
  // Subsystem name under a device, e.g. a board partner's card name.
  std::optional<std::string> Subsystem(uint16_t vendor, uint16_t device, uint16_t sub_vendor,
                                       uint16_t sub_device) const;
  // Number of device entries parsed (for conditions and tests).
  size_t device_count() const { return devices_.size(); }

 private:
  std::unordered_map<uint16_t, std::string> vendors_;
  std::unordered_map<uint32_t, std::string> devices_;     // vendor<<16 | device
  std::unordered_map<uint64_t, std::string> subsystems_;  // vendor,device,subvendor,subdevice
};

}  // namespace resmeter
