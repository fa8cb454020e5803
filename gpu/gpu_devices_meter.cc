#include "gpu/gpu_devices_meter.h"

#include <algorithm>

#include "claims/gpu_claim_specs.h"
#include "gpu/amdgpu_sysfs.h"
#include "gpu/gpu_cross_checks.h"
#include "gpu/nvidia_proc.h"
#include "gpu/nvml_loader.h"
#include "gpu/pci_ids.h"
#include "gpu/pci_scan.h"

namespace resmeter {
namespace {

using nlohmann::json;

// Sets j[key] when the optional holds a value.
template <typename T>
void PutIf(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
// Sets j[key] when the string is non-empty.
void PutIf(json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

// The PCI part of a device's claims, with pci.ids names when known.
json PciGpuJson(const PciGpu& g, const PciIds* ids) {
  char cls[16];
  std::snprintf(cls, sizeof cls, "0x%06x", g.class_code);
  json j = {{"pci_bus_id", g.bus_id},
            {"class", cls},
            {"vendor_id", Hex4(g.vendor_id)},
            {"device_id", Hex4(g.device_id)}};
  if (g.subsystem_vendor_id) j["subsystem_vendor_id"] = Hex4(*g.subsystem_vendor_id);
  if (g.subsystem_device_id) j["subsystem_device_id"] = Hex4(*g.subsystem_device_id);
  if (g.revision) j["revision"] = static_cast<int>(*g.revision);
  if (ids) {
    if (auto v = ids->Vendor(g.vendor_id)) j["vendor_name"] = *v;
    if (auto d = ids->Device(g.vendor_id, g.device_id)) j["device_name"] = *d;
    if (g.subsystem_vendor_id && g.subsystem_device_id) {
      if (auto s = ids->Subsystem(g.vendor_id, g.device_id, *g.subsystem_vendor_id, *g.subsystem_device_id)) {
        j["subsystem_name"] = *s;
      }
    }
  }
  j["driver"] = g.driver.empty() ? json(nullptr) : json(g.driver);
  PutIf(j, "numa_node", g.numa_node);
  PutIf(j, "link_speed_transfers_per_second", g.link_speed_transfers_per_second);
  PutIf(j, "link_width_lanes", g.link_width_lanes);
  PutIf(j, "max_link_speed_transfers_per_second", g.max_link_speed_transfers_per_second);
  PutIf(j, "max_link_width_lanes", g.max_link_width_lanes);
  return j;
}

// One NVML device as claims.
json NvmlDeviceJson(const NvmlDevice& d) {
  json j = {{"index", d.index}};
  PutIf(j, "name", d.name);
  PutIf(j, "uuid", d.uuid);
  PutIf(j, "serial", d.serial);
  PutIf(j, "pci_bus_id", d.pci_bus_id);
  if (d.pci_vendor_id && d.pci_device_id) j["pci_id"] = Hex4(*d.pci_vendor_id) + ":" + Hex4(*d.pci_device_id);
  PutIf(j, "memory_total_bytes", d.memory_total_bytes);
  PutIf(j, "max_graphics_clock_hz", d.max_graphics_clock_hz);
  PutIf(j, "max_sm_clock_hz", d.max_sm_clock_hz);
  PutIf(j, "max_memory_clock_hz", d.max_memory_clock_hz);
  PutIf(j, "power_limit_watts", d.power_limit_watts);
  if (!d.errors.empty()) j["errors"] = d.errors;
  return j;
}

// The kernel driver's view of one GPU as claims.
json ProcGpuJson(const NvidiaProcGpu& g) {
  json j = json::object();
  PutIf(j, "model", g.model);
  PutIf(j, "uuid", g.uuid);
  PutIf(j, "vbios_version", g.vbios_version);
  PutIf(j, "bus_type", g.bus_type);
  PutIf(j, "device_minor", g.device_minor);
  PutIf(j, "excluded", g.excluded);
  return j;
}

// amdgpu sysfs attributes as claims.
json AmdJson(const AmdGpuSysfs& a) {
  json j = json::object();
  PutIf(j, "vram_total_bytes", a.vram_total_bytes);
  PutIf(j, "vis_vram_total_bytes", a.vis_vram_total_bytes);
  PutIf(j, "gtt_total_bytes", a.gtt_total_bytes);
  PutIf(j, "vbios_version", a.vbios_version);
  PutIf(j, "product_name", a.product_name);
  PutIf(j, "product_number", a.product_number);
  PutIf(j, "serial_number", a.serial_number);
  PutIf(j, "unique_id", a.unique_id);
  return j;
}

// One human line: "no GPU ..." or "2 GPUs: ...".
std::string Summary(const PciScan& pci, const json& devices) {
  if (pci.gpus.empty()) {
    if (!pci.pci_bus_present) return "no GPU (no PCI bus)";
    return "no GPU (none of " + std::to_string(pci.devices_scanned) +
           " PCI devices is a display/3D controller)";
  }
  std::string s = std::to_string(pci.gpus.size()) + (pci.gpus.size() == 1 ? " GPU: " : " GPUs: ");
  for (size_t i = 0; i < devices.size(); ++i) {
    const json& d = devices[i];
    if (i) s += ", ";
    s += d.contains("device_name")
             ? d["device_name"].get<std::string>()
             : d["vendor_id"].get<std::string>() + ":" + d["device_id"].get<std::string>();
  }
  return s;
}

}  // namespace

std::vector<OptionSpec> GpuDevicesMeterOptions() {
  return {
      {"pci_ids_path",
       OptionType::kString,
       kDefaultPciIdsPath,
       {},
       {},
       {},
       "pci.ids database for GPU names (Debian package pci.ids); raw ids when absent"},
      {"nvml_library",
       OptionType::kString,
       kDefaultNvmlLibrary,
       {},
       {},
       {},
       "NVML shared library to dlopen (soname or path)"},
      {"use_nvml",
       OptionType::kBool,
       true,
       {},
       {},
       {},
       "query NVIDIA GPUs through NVML when the library loads"},
  };
}

MeterResult GpuDevicesMeter::Measure(MeterContext& ctx) {
  const Env& env = *ctx.env;
  auto scan = ScanPciGpus(env, ctx.sys_root);
  if (!scan.ok()) {
    if (scan.status().code() == Status::Code::kNotFound)
      return MeterResult::Unavailable(scan.status().message());
    return MeterResult::Failed(scan.status().ToString());
  }
  const PciScan& pci = *scan;
  MeterResult r = MeterResult::Ok();

  // Names.
  const std::string ids_path =
      ctx.options.Has("pci_ids_path") ? ctx.options.String("pci_ids_path") : std::string(kDefaultPciIdsPath);
  // Names are needed only for the vendors of GPUs found; no GPU, no parse.
  std::vector<uint16_t> vendors;
  for (const auto& g : pci.gpus) vendors.push_back(g.vendor_id);
  Result<PciIds> ids = Status::NotFound("not needed: no GPU on the PCI bus");
  if (!vendors.empty()) ids = PciIds::Load(env, ids_path, vendors);
  const PciIds* idp = ids.ok() ? &*ids : nullptr;
  r.conditions["pci_ids_path"] = ids_path;
  r.conditions["pci_ids"] = ids.ok()          ? std::string("loaded")
                            : vendors.empty() ? std::string("not needed: no GPU")
                                              : "unavailable: " + ids.status().message();

  // The NVIDIA kernel driver.
  auto proc = ReadNvidiaProc(env, ctx.proc_root);
  NvidiaProcInfo proc_info = proc.ok() ? *proc : NvidiaProcInfo{};
  if (!proc.ok()) r.conditions["nvidia_proc"] = "unreadable: " + proc.status().message();

  // NVML.
  const bool use_nvml = !ctx.options.Has("use_nvml") || ctx.options.Bool("use_nvml");
  const std::string nvml_lib =
      ctx.options.Has("nvml_library") ? ctx.options.String("nvml_library") : std::string(kDefaultNvmlLibrary);
  std::optional<NvmlSnapshot> nvml;
  json nvml_json;
  if (!use_nvml) {
    nvml_json = {{"status", "unavailable"}, {"reason", "disabled by meters.gpu.devices.use_nvml"}};
  } else if (auto q = QueryNvml(nvml_lib); q.ok()) {
    nvml = std::move(*q);
    nvml_json = {{"status", "ok"}, {"device_count", nvml->devices.size()}};
    PutIf(nvml_json, "driver_version", nvml->driver_version);
    PutIf(nvml_json, "nvml_version", nvml->nvml_version);
    if (nvml->cc_enabled) {
      nvml_json["confidential_computing"] = {{"enabled", *nvml->cc_enabled},
                                             {"environment", *nvml->cc_environment},
                                             {"devtools_mode", *nvml->cc_devtools_mode}};
    }
    if (!nvml->errors.empty()) nvml_json["errors"] = nvml->errors;
  } else {
    nvml_json = {{"status", "unavailable"}, {"reason", q.status().message()}};
  }
  r.conditions["nvml_library"] = nvml_lib;

  // Devices: PCI first, then what each other source says about the same bus id.
  json devices = json::array();
  GpuUuidMap uuids;
  for (const auto& g : pci.gpus) {
    json d = PciGpuJson(g, idp);
    for (const auto& pg : proc_info.gpus) {
      if (pg.bus_id == g.bus_id) d["nvidia_driver"] = ProcGpuJson(pg);
    }
    if (nvml) {
      for (const auto& nd : nvml->devices) {
        if (nd.pci_bus_id == g.bus_id) d["nvml"] = NvmlDeviceJson(nd);
      }
    }
    if (g.vendor_id == kPciVendorAmd || g.driver == "amdgpu") {
      AmdGpuSysfs a = ReadAmdGpuSysfs(env, ctx.sys_root, g.bus_id);
      if (a.any()) d["amdgpu"] = AmdJson(a);
      if (!a.unique_id.empty()) uuids[g.bus_id] = "amd:" + a.unique_id;
    }
    if (d.contains("nvml") && d["nvml"].contains("uuid"))
      uuids[g.bus_id] = d["nvml"]["uuid"];
    else if (d.contains("nvidia_driver") && d["nvidia_driver"].contains("uuid"))
      uuids[g.bus_id] = d["nvidia_driver"]["uuid"];
    devices.push_back(std::move(d));
  }
  if (nvml) {
    json unmatched = json::array();
    for (const auto& nd : nvml->devices) {
      bool on_pci = std::any_of(pci.gpus.begin(), pci.gpus.end(),
                                [&](const PciGpu& g) { return g.bus_id == nd.pci_bus_id; });
      if (!on_pci) unmatched.push_back(NvmlDeviceJson(nd));
    }
    if (!unmatched.empty()) nvml_json["devices_not_on_pci"] = std::move(unmatched);
  }

  SetClaim(r.claims, kGpuSummary, Summary(pci, devices));
  SetClaim(r.claims, kGpuCount, pci.gpus.size());
  SetClaim(r.claims, kGpuPciBusPresent, pci.pci_bus_present);
  SetClaim(r.claims, kGpuPciDevicesScanned, pci.devices_scanned);
  SetClaim(r.claims, kGpuDevices, std::move(devices));
  SetClaim(r.claims, kGpuNvml, std::move(nvml_json));
  SetClaim(r.claims, kGpuNvidiaKernelDriver,
           proc_info.driver_loaded ? json{{"loaded", true},
                                          {"version", proc_info.kernel_module_version},
                                          {"gpu_count", proc_info.gpus.size()}}
                                   : json{{"loaded", false}});

  // Cross-checks.
  auto add = [&r](std::vector<Finding> f) { r.findings.insert(r.findings.end(), f.begin(), f.end()); };
  if (nvml) {
    add(CheckNvmlAgainstPci(pci, idp, *nvml));
    add(CheckProcAgainstNvml(proc_info, *nvml));
  }
  add(CheckDriverVersions(nvml ? nvml->driver_version : "", proc_info.kernel_module_version));

  // UUIDs against the last run.
  if (ctx.state_dir.empty()) {
    r.conditions["uuid_history"] = "not kept: no state directory";
  } else {
    const std::string path = GpuUuidStatePath(ctx.state_dir);
    auto prev = LoadGpuUuidState(env, path);
    if (prev.ok()) {
      if (auto f = CompareGpuUuids(*prev, uuids)) r.findings.push_back(std::move(*f));
      r.conditions["uuid_history"] = "compared with the last run";
    } else if (prev.status().code() == Status::Code::kNotFound) {
      r.conditions["uuid_history"] = "first run";
    } else {
      r.conditions["uuid_history"] = "previous state unreadable: " + prev.status().message();
    }
    if (Status s = SaveGpuUuidState(*ctx.env, path, uuids); !s.ok()) {
      r.conditions["uuid_history"] =
          r.conditions["uuid_history"].get<std::string>() + "; not saved: " + s.message();
    }
  }
  return r;
}

}  // namespace resmeter
