// NVML loader: reads NVIDIA's management library (NVML) at run time through
// dlopen("libnvidia-ml.so.1") or a configured path, so resmeter has no
// build-time NVIDIA dependency. Only the few functions used are resolved;
// optional ones that a driver lacks simply leave their fields empty.
//
// QueryNvml() opens the library, initializes NVML, takes one snapshot of
// every device, shuts NVML down and closes the library. NVML is itself
// thread-safe; concurrent QueryNvml() calls are allowed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace resmeter {

// The default soname the NVIDIA driver package installs.
inline constexpr const char* kDefaultNvmlLibrary = "libnvidia-ml.so.1";

// One device as NVML reports it. Absent optionals: NVML said "not supported"
// or the function is missing; `errors` says which.
struct NvmlDevice {
  unsigned index = 0;
  std::string name;
  std::string uuid;
  std::string serial;
  std::string pci_bus_id;                 // normalized "dddd:bb:dd.f", empty if unknown
  std::optional<uint16_t> pci_vendor_id;  // from nvmlPciInfo_t.pciDeviceId (low 16 bits)
  std::optional<uint16_t> pci_device_id;  // (high 16 bits)
  std::optional<uint64_t> memory_total_bytes;
  std::optional<double> max_graphics_clock_hz;
  std::optional<double> max_sm_clock_hz;
  std::optional<double> max_memory_clock_hz;
  std::optional<double> power_limit_watts;
  std::vector<std::string> errors;  // "nvmlDeviceGetSerial: Not Supported"
};

// One snapshot of the whole NVML view.
struct NvmlSnapshot {
  std::string library;         // path or soname that was opened
  std::string driver_version;  // nvmlSystemGetDriverVersion, empty if unavailable
  std::string nvml_version;
  std::optional<bool> cc_enabled;          // confidential computing feature on/off
  std::optional<unsigned> cc_environment;  // 0 unavailable, 1 sim, 2 prod
  std::optional<bool> cc_devtools_mode;
  std::vector<NvmlDevice> devices;
  std::vector<std::string> errors;  // system-level failures of optional calls
};

// Loads `library` and takes a snapshot. NotFound when the library cannot be
// opened (dlerror in the message), NotSupported when a required symbol is
// missing or nvmlInit fails (the NVML error string in the message).
Result<NvmlSnapshot> QueryNvml(const std::string& library);

}  // namespace resmeter
