#include "gpu/pci_scan.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/strings.h"

namespace resmeter {
namespace {

// Parses "0x10de" / "10de" sysfs hex values.
std::optional<uint64_t> ParseSysfsHex(std::string_view s) {
  s = Trim(s);
  if (StartsWith(s, "0x") || StartsWith(s, "0X")) s.remove_prefix(2);
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Reads a sysfs hex file under a device directory.
std::optional<uint64_t> ReadHex(const Env& env, const std::string& dir, const char* name) {
  auto text = env.ReadFile(dir + "/" + name);
  if (!text.ok()) return std::nullopt;
  return ParseSysfsHex(*text);
}

// The DRIVER= line of a device's uevent, or "".
std::string ReadDriver(const Env& env, const std::string& dir) {
  auto text = env.ReadFile(dir + "/uevent");
  if (!text.ok()) return "";
  for (auto line : Split(*text, '\n')) {
    line = Trim(line);
    if (StartsWith(line, "DRIVER=")) return std::string(line.substr(7));
  }
  return "";
}

}  // namespace

bool IsGpuClass(uint32_t class_code) {
  uint32_t base_sub = class_code >> 8;
  return base_sub == 0x0300 || base_sub == 0x0302 || base_sub == 0x0380;
}

std::string Hex4(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04x", v);
  return buf;
}

std::optional<std::string> NormalizePciBusId(const std::string& text) {
  std::string_view s = Trim(text);
  auto parts = Split(s, ':');
  if (parts.size() != 2 && parts.size() != 3) return std::nullopt;
  uint64_t domain = 0;
  size_t i = 0;
  if (parts.size() == 3) {
    auto d = ParseSysfsHex(parts[0]);
    if (!d || parts[0].size() > 8) return std::nullopt;
    domain = *d;
    i = 1;
  }
  auto bus = ParseSysfsHex(parts[i]);
  auto devfn = Split(parts[i + 1], '.');
  if (!bus || *bus > 0xff || devfn.size() != 2) return std::nullopt;
  auto dev = ParseSysfsHex(devfn[0]);
  auto fn = ParseSysfsHex(devfn[1]);
  if (!dev || *dev > 0x1f || !fn || *fn > 7 || domain > 0xffffffff) return std::nullopt;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", static_cast<unsigned>(domain),
                static_cast<unsigned>(*bus), static_cast<unsigned>(*dev), static_cast<unsigned>(*fn));
  return std::string(buf);
}

std::optional<double> ParseLinkSpeed(const std::string& text) {
  auto fields = SplitWhitespace(text);
  if (fields.size() < 2 || fields[1] != "GT/s") return std::nullopt;
  auto gts = ParseDouble(fields[0]);
  if (!gts || *gts <= 0) return std::nullopt;
  return *gts * 1e9;
}

Result<PciScan> ScanPciGpus(const Env& env, const std::string& sys_root) {
  PciScan scan;
  const std::string devices_dir = sys_root + "/bus/pci/devices";
  auto names = env.ListDir(devices_dir);
  if (!names.ok()) {
    if (names.status().code() != Status::Code::kNotFound) return names.status();
    if (!env.Exists(sys_root + "/bus")) {
      return Status::NotFound(sys_root + "/bus: no such directory (is sysfs mounted there?)");
    }
    return scan;  // sysfs without a PCI bus: no GPU can be attached
  }
  scan.pci_bus_present = true;
  for (const auto& name : *names) {
    const std::string dir = devices_dir + "/" + name;
    auto class_code = ReadHex(env, dir, "class");
    if (!class_code) continue;  // not a device directory
    ++scan.devices_scanned;
    if (!IsGpuClass(static_cast<uint32_t>(*class_code))) continue;
    PciGpu gpu;
    gpu.bus_id = NormalizePciBusId(name).value_or(name);
    gpu.class_code = static_cast<uint32_t>(*class_code);
    gpu.vendor_id = static_cast<uint16_t>(ReadHex(env, dir, "vendor").value_or(0));
    gpu.device_id = static_cast<uint16_t>(ReadHex(env, dir, "device").value_or(0));
    if (auto v = ReadHex(env, dir, "subsystem_vendor")) gpu.subsystem_vendor_id = static_cast<uint16_t>(*v);
    if (auto v = ReadHex(env, dir, "subsystem_device")) gpu.subsystem_device_id = static_cast<uint16_t>(*v);
    if (auto v = ReadHex(env, dir, "revision")) gpu.revision = static_cast<uint8_t>(*v);
    gpu.driver = ReadDriver(env, dir);
    if (auto n = ReadIntFile(env, dir + "/numa_node"); n.ok() && *n >= 0) gpu.numa_node = *n;
    if (auto s = env.ReadFile(dir + "/current_link_speed"); s.ok()) {
      gpu.link_speed_transfers_per_second = ParseLinkSpeed(*s);
    }
    if (auto w = ReadIntFile(env, dir + "/current_link_width"); w.ok() && *w > 0) gpu.link_width_lanes = *w;
    if (auto s = env.ReadFile(dir + "/max_link_speed"); s.ok()) {
      gpu.max_link_speed_transfers_per_second = ParseLinkSpeed(*s);
    }
    if (auto w = ReadIntFile(env, dir + "/max_link_width"); w.ok() && *w > 0) gpu.max_link_width_lanes = *w;
    scan.gpus.push_back(std::move(gpu));
  }
  std::sort(scan.gpus.begin(), scan.gpus.end(),
            [](const PciGpu& a, const PciGpu& b) { return a.bus_id < b.bus_id; });
  return scan;
}

}  // namespace resmeter
