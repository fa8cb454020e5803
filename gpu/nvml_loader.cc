#include "gpu/nvml_loader.h"

#include <dlfcn.h>

#include <cstring>

#include "gpu/pci_scan.h"

namespace resmeter {
namespace {

// The slice of nvml.h this file depends on (ABI facts from NVML's API reference).
using NvmlReturn = int;          // nvmlReturn_t; 0 is NVML_SUCCESS
using NvmlDeviceHandle = void*;  // nvmlDevice_t
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr unsigned kClockGraphics = 0, kClockSm = 1, kClockMem = 2;  // nvmlClockType_t

struct NvmlPciInfo {  // nvmlPciInfo_t
  char bus_id_legacy[16];
  unsigned domain;
  unsigned bus;
  unsigned device;
  unsigned pci_device_id;  // (device id << 16) | vendor id
  unsigned pci_subsystem_id;
  char bus_id[32];
};
struct NvmlMemory {  // nvmlMemory_t
  unsigned long long total, free, used;
};
struct NvmlConfComputeSystemState {  // nvmlConfComputeSystemState_t
  unsigned environment, cc_feature, dev_tools_mode;
};

// A dlopen handle closed on destruction.
class Library {
 public:
  explicit Library(void* handle) : handle_(handle) {}
  ~Library() {
    if (handle_) dlclose(handle_);
  }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  // Resolves a symbol as a function pointer of type F, or nullptr.
  template <typename F>
  F Get(const char* name) const {
    return reinterpret_cast<F>(dlsym(handle_, name));
  }

 private:
  void* handle_;
};

// The resolved entry points; required ones are checked before use.
struct NvmlApi {
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;
  NvmlReturn (*get_count)(unsigned*) = nullptr;
  NvmlReturn (*get_handle)(unsigned, NvmlDeviceHandle*) = nullptr;
  NvmlReturn (*driver_version)(char*, unsigned) = nullptr;
  NvmlReturn (*nvml_version)(char*, unsigned) = nullptr;
  NvmlReturn (*cc_state)(NvmlConfComputeSystemState*) = nullptr;
  NvmlReturn (*name)(NvmlDeviceHandle, char*, unsigned) = nullptr;
  NvmlReturn (*uuid)(NvmlDeviceHandle, char*, unsigned) = nullptr;
  NvmlReturn (*serial)(NvmlDeviceHandle, char*, unsigned) = nullptr;
  NvmlReturn (*pci_info)(NvmlDeviceHandle, NvmlPciInfo*) = nullptr;
  NvmlReturn (*memory)(NvmlDeviceHandle, NvmlMemory*) = nullptr;
  NvmlReturn (*max_clock)(NvmlDeviceHandle, unsigned, unsigned*) = nullptr;
  NvmlReturn (*power_limit)(NvmlDeviceHandle, unsigned*) = nullptr;

  // A readable NVML error ("Not Supported"), or the code.
  std::string Error(NvmlReturn r) const {
    if (error_string) {
      if (const char* s = error_string(r)) return s;
    }
    return "NVML error " + std::to_string(r);
  }
};

// Resolves the newest versioned symbol that exists, else the plain one.
template <typename F>
F Resolve(const Library& lib, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (F f = lib.Get<F>(n)) return f;
  }
  return nullptr;
}

// Calls a string getter into a buffer; records failures in `errors`.
template <typename Fn>
std::string GetString(const NvmlApi& api, const char* what, Fn fn, std::vector<std::string>& errors) {
  char buf[256];
  std::memset(buf, 0, sizeof buf);
  NvmlReturn r = fn(buf, static_cast<unsigned>(sizeof buf - 1));
  if (r != kNvmlSuccess) {
    errors.push_back(std::string(what) + ": " + api.Error(r));
    return "";
  }
  buf[sizeof buf - 1] = '\0';
  return buf;
}

// Reads one device's identity and limits.
NvmlDevice ReadDevice(const NvmlApi& api, unsigned index, NvmlDeviceHandle h) {
  NvmlDevice d;
  d.index = index;
  auto& errs = d.errors;
  if (api.name)
    d.name = GetString(
        api, "nvmlDeviceGetName", [&](char* b, unsigned n) { return api.name(h, b, n); }, errs);
  if (api.uuid)
    d.uuid = GetString(
        api, "nvmlDeviceGetUUID", [&](char* b, unsigned n) { return api.uuid(h, b, n); }, errs);
  if (api.serial) {
    d.serial = GetString(
        api, "nvmlDeviceGetSerial", [&](char* b, unsigned n) { return api.serial(h, b, n); }, errs);
  }
  if (api.pci_info) {
    NvmlPciInfo pci;
    std::memset(&pci, 0, sizeof pci);
    NvmlReturn r = api.pci_info(h, &pci);
    if (r == kNvmlSuccess) {
      pci.bus_id[sizeof pci.bus_id - 1] = '\0';
      d.pci_bus_id = NormalizePciBusId(pci.bus_id).value_or("");
      d.pci_vendor_id = static_cast<uint16_t>(pci.pci_device_id & 0xffff);
      d.pci_device_id = static_cast<uint16_t>(pci.pci_device_id >> 16);
    } else {
      errs.push_back("nvmlDeviceGetPciInfo: " + api.Error(r));
    }
  }
  if (api.memory) {
    NvmlMemory mem{};
    NvmlReturn r = api.memory(h, &mem);
    if (r == kNvmlSuccess)
      d.memory_total_bytes = mem.total;
    else
      errs.push_back("nvmlDeviceGetMemoryInfo: " + api.Error(r));
  }
  if (api.max_clock) {
    const std::pair<unsigned, std::optional<double>*> clocks[] = {{kClockGraphics, &d.max_graphics_clock_hz},
                                                                  {kClockSm, &d.max_sm_clock_hz},
                                                                  {kClockMem, &d.max_memory_clock_hz}};
    for (auto [type, out] : clocks) {
      unsigned mhz = 0;
      NvmlReturn r = api.max_clock(h, type, &mhz);
      if (r == kNvmlSuccess)
        *out = mhz * 1e6;
      else
        errs.push_back("nvmlDeviceGetMaxClockInfo(" + std::to_string(type) + "): " + api.Error(r));
    }
  }
  if (api.power_limit) {
    unsigned mw = 0;
    NvmlReturn r = api.power_limit(h, &mw);
    if (r == kNvmlSuccess)
      d.power_limit_watts = mw / 1000.0;
    else
      errs.push_back("nvmlDeviceGetPowerManagementLimit: " + api.Error(r));
  }
  return d;
}

}  // namespace

Result<NvmlSnapshot> QueryNvml(const std::string& library) {
  dlerror();
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = dlerror();
    return Status::NotFound("NVML library " + library + " not loadable: " + (err ? err : "unknown error"));
  }
  Library lib(handle);
  NvmlApi api;
  api.init = Resolve<decltype(api.init)>(lib, {"nvmlInit_v2", "nvmlInit"});
  api.shutdown = Resolve<decltype(api.shutdown)>(lib, {"nvmlShutdown"});
  api.error_string = Resolve<decltype(api.error_string)>(lib, {"nvmlErrorString"});
  api.get_count = Resolve<decltype(api.get_count)>(lib, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"});
  api.get_handle =
      Resolve<decltype(api.get_handle)>(lib, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
  if (!api.init || !api.shutdown || !api.get_count || !api.get_handle) {
    return Status::NotSupported("NVML library " + library +
                                " lacks nvmlInit/nvmlShutdown/nvmlDeviceGetCount/nvmlDeviceGetHandleByIndex");
  }
  api.driver_version = Resolve<decltype(api.driver_version)>(lib, {"nvmlSystemGetDriverVersion"});
  api.nvml_version = Resolve<decltype(api.nvml_version)>(lib, {"nvmlSystemGetNVMLVersion"});
  api.cc_state = Resolve<decltype(api.cc_state)>(lib, {"nvmlSystemGetConfComputeState"});
  api.name = Resolve<decltype(api.name)>(lib, {"nvmlDeviceGetName"});
  api.uuid = Resolve<decltype(api.uuid)>(lib, {"nvmlDeviceGetUUID"});
  api.serial = Resolve<decltype(api.serial)>(lib, {"nvmlDeviceGetSerial"});
  api.pci_info = Resolve<decltype(api.pci_info)>(
      lib, {"nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2", "nvmlDeviceGetPciInfo"});
  api.memory = Resolve<decltype(api.memory)>(lib, {"nvmlDeviceGetMemoryInfo"});
  api.max_clock = Resolve<decltype(api.max_clock)>(lib, {"nvmlDeviceGetMaxClockInfo"});
  api.power_limit = Resolve<decltype(api.power_limit)>(lib, {"nvmlDeviceGetPowerManagementLimit"});

  NvmlReturn r = api.init();
  if (r != kNvmlSuccess) return Status::NotSupported("nvmlInit failed: " + api.Error(r));

  NvmlSnapshot snap;
  snap.library = library;
  if (api.driver_version) {
    snap.driver_version = GetString(api, "nvmlSystemGetDriverVersion", api.driver_version, snap.errors);
  }
  if (api.nvml_version)
    snap.nvml_version = GetString(api, "nvmlSystemGetNVMLVersion", api.nvml_version, snap.errors);
  if (api.cc_state) {
    NvmlConfComputeSystemState cc{};
    r = api.cc_state(&cc);
    if (r == kNvmlSuccess) {
      snap.cc_enabled = cc.cc_feature == 1;
      snap.cc_environment = cc.environment;
      snap.cc_devtools_mode = cc.dev_tools_mode == 1;
    } else {
      snap.errors.push_back("nvmlSystemGetConfComputeState: " + api.Error(r));
    }
  }
  unsigned count = 0;
  r = api.get_count(&count);
  if (r != kNvmlSuccess) {
    Status st = Status::NotSupported("nvmlDeviceGetCount failed: " + api.Error(r));
    api.shutdown();
    return st;
  }
  for (unsigned i = 0; i < count && i < 1024; ++i) {
    NvmlDeviceHandle h = nullptr;
    r = api.get_handle(i, &h);
    if (r != kNvmlSuccess) {
      NvmlDevice d;
      d.index = i;
      d.errors.push_back("nvmlDeviceGetHandleByIndex: " + api.Error(r));
      snap.devices.push_back(std::move(d));
      continue;
    }
    snap.devices.push_back(ReadDevice(api, i, h));
  }
  api.shutdown();
  return snap;
}

}  // namespace resmeter
