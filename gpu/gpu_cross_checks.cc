#include "gpu/gpu_cross_checks.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <set>

#include "core/atomic_write.h"
#include "core/strings.h"
#include "core/untrusted_json.h"

namespace resmeter {
namespace {

// ASCII lowercase copy.
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// "10de:2330" for a vendor/device pair.
std::string IdPair(uint16_t vendor, uint16_t device) { return Hex4(vendor) + ":" + Hex4(device); }

// Finds the PCI GPU at a normalized bus id.
const PciGpu* FindPci(const PciScan& pci, const std::string& bus_id) {
  for (const auto& g : pci.gpus) {
    if (g.bus_id == bus_id) return &g;
  }
  return nullptr;
}

}  // namespace

std::string GpuModelToken(const std::string& name) {
  static const std::set<std::string> kSkip = {"nvidia", "tesla",  "geforce",  "quadro", "rtx",  "gtx",
                                              "amd",    "radeon", "instinct", "pro",    "titan"};
  std::string cleaned = name;
  std::replace(cleaned.begin(), cleaned.end(), '-', ' ');
  std::replace(cleaned.begin(), cleaned.end(), '_', ' ');
  for (auto word : SplitWhitespace(cleaned)) {
    std::string w(word);
    if (kSkip.count(Lower(w))) continue;
    if (std::any_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; })) return w;
  }
  return "";
}

bool NameMatchesPciName(const std::string& marketing_name, const std::string& pci_name) {
  const std::string token = Lower(GpuModelToken(marketing_name));
  if (token.empty()) return false;
  const std::string hay = Lower(pci_name);
  for (size_t pos = hay.find(token); pos != std::string::npos; pos = hay.find(token, pos + 1)) {
    bool left_ok = pos == 0 || !IsAlnum(hay[pos - 1]);
    size_t end = pos + token.size();
    bool right_ok = end == hay.size() || !IsAlnum(hay[end]);
    if (left_ok && right_ok) return true;
  }
  return false;
}

std::vector<Finding> CheckNvmlAgainstPci(const PciScan& pci, const PciIds* ids, const NvmlSnapshot& nvml) {
  std::vector<Finding> out;
  int64_t pci_nvidia = std::count_if(pci.gpus.begin(), pci.gpus.end(),
                                     [](const PciGpu& g) { return g.vendor_id == kPciVendorNvidia; });
  const int64_t nvml_count = static_cast<int64_t>(nvml.devices.size());
  if (nvml_count != pci_nvidia) {
    out.push_back({"gpu_count_mismatch",
                   "NVML reports " + std::to_string(nvml_count) + " GPUs but the PCI bus has " +
                       std::to_string(pci_nvidia) + " NVIDIA GPU(s)",
                   {{"nvml_count", nvml_count}, {"pci_count", pci_nvidia}}});
  }
  std::map<std::string, std::vector<unsigned>> by_uuid, by_bus;
  for (const auto& d : nvml.devices) {
    if (!d.uuid.empty()) by_uuid[d.uuid].push_back(d.index);
    if (!d.pci_bus_id.empty()) by_bus[d.pci_bus_id].push_back(d.index);
  }
  for (const auto* m : {&by_uuid, &by_bus}) {
    for (const auto& [key, idx] : *m) {
      if (idx.size() < 2) continue;
      const char* what = m == &by_uuid ? "uuid" : "pci_bus_id";
      out.push_back({"gpu_duplicate_identity",
                     std::to_string(idx.size()) + " NVML GPUs share " + what + " " + key,
                     {{what, key}, {"nvml_indexes", idx}}});
    }
  }
  for (const auto& d : nvml.devices) {
    const std::string label =
        "NVML GPU " + std::to_string(d.index) + (d.name.empty() ? "" : " (" + d.name + ")");
    const PciGpu* p = d.pci_bus_id.empty() ? nullptr : FindPci(pci, d.pci_bus_id);
    if (!p) {
      out.push_back({"gpu_not_on_pci",
                     label + " claims PCI bus id " + (d.pci_bus_id.empty() ? "(none)" : d.pci_bus_id) +
                         " but no GPU is there on the PCI bus",
                     {{"nvml_index", d.index}, {"nvml_name", d.name}, {"nvml_pci_bus_id", d.pci_bus_id}}});
      continue;
    }
    if (d.pci_vendor_id && d.pci_device_id &&
        (*d.pci_vendor_id != p->vendor_id || *d.pci_device_id != p->device_id)) {
      out.push_back({"gpu_pci_id_mismatch",
                     label + " reports PCI id " + IdPair(*d.pci_vendor_id, *d.pci_device_id) +
                         " but sysfs shows " + IdPair(p->vendor_id, p->device_id) + " at " + p->bus_id,
                     {{"nvml_index", d.index},
                      {"pci_bus_id", p->bus_id},
                      {"nvml_pci_id", IdPair(*d.pci_vendor_id, *d.pci_device_id)},
                      {"sysfs_pci_id", IdPair(p->vendor_id, p->device_id)}}});
    }
    if (!ids || d.name.empty()) continue;
    auto pci_name = ids->Device(p->vendor_id, p->device_id);
    if (pci_name && !GpuModelToken(d.name).empty() && !NameMatchesPciName(d.name, *pci_name)) {
      out.push_back({"gpu_name_mismatch",
                     label + " does not match the PCI device " + IdPair(p->vendor_id, p->device_id) + " (" +
                         *pci_name + ") at " + p->bus_id,
                     {{"nvml_index", d.index},
                      {"nvml_name", d.name},
                      {"pci_bus_id", p->bus_id},
                      {"pci_id", IdPair(p->vendor_id, p->device_id)},
                      {"pci_name", *pci_name}}});
    }
  }
  return out;
}

std::vector<Finding> CheckProcAgainstNvml(const NvidiaProcInfo& proc, const NvmlSnapshot& nvml) {
  std::vector<Finding> out;
  for (const auto& g : proc.gpus) {
    for (const auto& d : nvml.devices) {
      if (d.pci_bus_id != g.bus_id || d.uuid.empty() || g.uuid.empty() || d.uuid == g.uuid) continue;
      out.push_back(
          {"gpu_uuid_mismatch",
           "GPU at " + g.bus_id + ": NVML says UUID " + d.uuid + ", the kernel driver says " + g.uuid,
           {{"pci_bus_id", g.bus_id}, {"nvml_uuid", d.uuid}, {"driver_uuid", g.uuid}}});
    }
  }
  return out;
}

std::optional<std::string> ImpossibleDriverVersionReason(const std::string& version) {
  const std::string v(Trim(version));
  if (v.empty()) return "empty version";
  auto parts = Split(v, '.');
  if (parts.size() < 2 || parts.size() > 3) {
    return "has " + std::to_string(parts.size()) + " components; Linux drivers use MAJOR.MINOR[.PATCH]";
  }
  for (auto p : parts) {
    if (p.empty() || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return "component '" + std::string(p) + "' is not a decimal number";
    }
  }
  if (parts[0].size() != 3) return "major '" + std::string(parts[0]) + "' is not three digits";
  if (*ParseInt64(parts[0]) < 200) return "major " + std::string(parts[0]) + " predates NVML";
  if (parts[1].size() < 2 || parts[1].size() > 3)
    return "minor '" + std::string(parts[1]) + "' is not 2-3 digits";
  if (parts.size() == 3 && parts[2].size() != 2)
    return "patch '" + std::string(parts[2]) + "' is not two digits";
  return std::nullopt;
}

std::vector<Finding> CheckDriverVersions(const std::string& nvml_version, const std::string& kernel_version) {
  std::vector<Finding> out;
  const std::pair<const char*, const std::string*> sources[] = {{"nvml", &nvml_version},
                                                                {"kernel_module", &kernel_version}};
  for (auto [source, version] : sources) {
    if (version->empty()) continue;
    if (auto why = ImpossibleDriverVersionReason(*version)) {
      out.push_back(
          {"driver_version_impossible",
           std::string(source) + " driver version '" + *version + "' cannot exist on Linux: " + *why,
           {{"source", source}, {"version", *version}, {"reason", *why}}});
    }
  }
  if (!nvml_version.empty() && !kernel_version.empty() && nvml_version != kernel_version) {
    out.push_back({"driver_version_mismatch",
                   "NVML reports driver " + nvml_version + " but the kernel module is " + kernel_version,
                   {{"nvml_version", nvml_version}, {"kernel_module_version", kernel_version}}});
  }
  return out;
}

std::string GpuUuidStatePath(const std::string& state_dir) { return state_dir + "/gpu_uuids.json"; }

Result<GpuUuidMap> LoadGpuUuidState(const Env& env, const std::string& path) {
  RESMETER_ASSIGN_OR_RETURN(std::string text, env.ReadFile(path));
  JsonLimits limits;  // the state dir is on the provider's disk: bounded before parsing
  limits.max_bytes = 1024 * 1024;
  limits.what = path;
  auto parsed = ParseUntrustedJson(text, limits);
  if (!parsed.ok()) return Status::Corruption(parsed.status().message());
  const nlohmann::json j = std::move(*parsed);
  if (!j.is_object() || !j.contains("uuids") || !j["uuids"].is_object()) {
    return Status::Corruption(path + ": not a GPU UUID state file (want {\"uuids\": {bus_id: uuid}})");
  }
  GpuUuidMap out;
  for (const auto& [bus, uuid] : j["uuids"].items()) {
    if (!uuid.is_string()) return Status::Corruption(path + ": uuids." + bus + " is not a string");
    out[bus] = uuid.get<std::string>();
  }
  return out;
}

Status SaveGpuUuidState(Env& env, const std::string& path, const GpuUuidMap& uuids) {
  nlohmann::json j = {{"uuids", nlohmann::json::object()}};
  for (const auto& [bus, uuid] : uuids) j["uuids"][bus] = uuid;
  // In the checked state directory, without following a planted symlink.
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0)
    return Status::InvalidArgument(path + ": not inside a state directory");
  RESMETER_ASSIGN_OR_RETURN(auto dir, env.OpenDirectory(path.substr(0, slash), 0));
  return WriteFileAtomically(*dir, path.substr(slash + 1), j.dump(2) + "\n", 0600);
}

std::optional<Finding> CompareGpuUuids(const GpuUuidMap& previous, const GpuUuidMap& current) {
  std::set<std::string> prev, cur;
  for (const auto& [bus, uuid] : previous) prev.insert(uuid);
  for (const auto& [bus, uuid] : current) cur.insert(uuid);
  if (prev == cur) return std::nullopt;
  std::vector<std::string> added, removed;
  std::set_difference(cur.begin(), cur.end(), prev.begin(), prev.end(), std::back_inserter(added));
  std::set_difference(prev.begin(), prev.end(), cur.begin(), cur.end(), std::back_inserter(removed));
  return Finding{"gpu_uuid_changed",
                 "GPU UUIDs changed since the last run: " + std::to_string(added.size()) + " new, " +
                     std::to_string(removed.size()) + " gone",
                 {{"added", added}, {"removed", removed}, {"previous", previous}, {"current", current}}};
}

}  // namespace resmeter
