#include "gpu/pci_ids.h"

#include <algorithm>
#include <charconv>

#include "core/strings.h"

namespace resmeter {
namespace {

// Parses exactly four hex digits.
std::optional<uint16_t> ParseHex4(std::string_view s) {
  if (s.size() != 4) return std::nullopt;
  uint16_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + 4, v, 16);
  if (ec != std::errc() || p != s.data() + 4) return std::nullopt;
  return v;
}

// Key of a subsystem entry.
uint64_t SubKey(uint16_t v, uint16_t d, uint16_t sv, uint16_t sd) {
  return (uint64_t{v} << 48) | (uint64_t{d} << 32) | (uint64_t{sv} << 16) | sd;
}

}  // namespace

Result<PciIds> PciIds::Parse(std::string_view text, const std::vector<uint16_t>& only_vendors) {
  PciIds ids;
  // -1: no current vendor/device (plain ints keep GCC's maybe-uninitialized quiet).
  int32_t vendor = -1;
  int32_t device = -1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    if (line.size() >= 2 && line[0] == 'C' && line[1] == ' ') break;  // class section
    size_t tabs = 0;
    while (tabs < line.size() && line[tabs] == '\t') ++tabs;
    std::string_view body = line.substr(tabs);
    if (tabs == 0) {  // "vvvv  Vendor name"
      auto v = ParseHex4(body.substr(0, 4));
      const bool keep = v && (only_vendors.empty() ||
                              std::find(only_vendors.begin(), only_vendors.end(), *v) != only_vendors.end());
      vendor = keep ? *v : -1;  // entries under vendors not kept are skipped
      device = -1;
      if (v && body.size() > 4) ids.vendors_[*v] = std::string(Trim(body.substr(4)));
    } else if (tabs == 1 && vendor >= 0) {  // "\tdddd  Device name"
      auto d = ParseHex4(body.substr(0, 4));
      device = d ? *d : -1;
      if (d && body.size() > 4) {
        ids.devices_[(static_cast<uint32_t>(vendor) << 16) | *d] = std::string(Trim(body.substr(4)));
      }
    } else if (tabs == 2 && vendor >= 0 && device >= 0) {  // "\t\tssss ssss  Subsystem name"
      auto sv = ParseHex4(body.substr(0, 4));
      auto sd = body.size() >= 9 ? ParseHex4(body.substr(5, 4)) : std::nullopt;
      if (sv && sd && body.size() > 9) {
        ids.subsystems_[SubKey(static_cast<uint16_t>(vendor), static_cast<uint16_t>(device), *sv, *sd)] =
            std::string(Trim(body.substr(9)));
      }
    }
  }
  if (ids.vendors_.empty()) return Status::Corruption("pci.ids: no vendor entries found");
  return ids;
}

Result<PciIds> PciIds::Load(const Env& env, const std::string& path,
                            const std::vector<uint16_t>& only_vendors) {
  RESMETER_ASSIGN_OR_RETURN(std::string text, env.ReadFile(path));
  auto parsed = Parse(text, only_vendors);
  if (!parsed.ok()) return parsed.status().WithContext(path);
  return parsed;
}

std::optional<std::string> PciIds::Vendor(uint16_t vendor) const {
  auto it = vendors_.find(vendor);
  if (it == vendors_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> PciIds::Device(uint16_t vendor, uint16_t device) const {
  auto it = devices_.find((uint32_t{vendor} << 16) | device);
  if (it == devices_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> PciIds::Subsystem(uint16_t vendor, uint16_t device, uint16_t sub_vendor,
                                             uint16_t sub_device) const {
  auto it = subsystems_.find(SubKey(vendor, device, sub_vendor, sub_device));
  if (it == subsystems_.end()) return std::nullopt;
  return it->second;
}

}  // namespace resmeter
