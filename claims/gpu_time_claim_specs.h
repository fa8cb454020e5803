// Declared claims of gpu.devices, gpu.compute and the `time` meter.
// The GPU meters' per-device objects are declared as a whole (their members
// follow NVML, the NVIDIA driver and amdgpu; README "Meters").
// See claims/claim_spec.h.
#pragma once

#include "claims/claim_spec.h"

namespace resmeter {

// gpu.devices
inline constexpr ClaimSpec kGpuSummary{"gpu.devices", "summary", "", ClaimType::kString, "one line: the GPUs found, or \"no GPU\""};
inline constexpr ClaimSpec kGpuCount{"gpu.devices", "gpus", "count", ClaimType::kInteger, "GPUs (display/3D/processing accelerators) on the PCI bus", "gpu.count", "resmeter_gpu_devices_gpus", "gpu_count"};
inline constexpr ClaimSpec kGpuPciBusPresent{"gpu.devices", "pci_bus_present", "", ClaimType::kBool, "sysfs has a PCI bus at all", {}, "resmeter_gpu_devices_pci_bus_present"};
inline constexpr ClaimSpec kGpuPciDevicesScanned{"gpu.devices", "pci_devices_scanned", "count", ClaimType::kInteger, "PCI functions examined", {}, "resmeter_gpu_devices_pci_devices_scanned"};
inline constexpr ClaimSpec kGpuDevices{"gpu.devices", "devices", "", ClaimType::kArray, "per GPU: PCI identity and link, and what NVML, the NVIDIA driver and amdgpu say of it", "gpu.model, gpu.memory_gib"};
inline constexpr ClaimSpec kGpuNvml{"gpu.devices", "nvml", "", ClaimType::kObject, "NVML status, versions and device count (or why it is unavailable)"};
inline constexpr ClaimSpec kGpuNvidiaKernelDriver{"gpu.devices", "nvidia_kernel_driver", "", ClaimType::kObject, "/proc/driver/nvidia: loaded, version, GPU count"};
inline constexpr const ClaimSpec* kGpuDevicesClaims[] = {&kGpuSummary, &kGpuCount, &kGpuPciBusPresent,
                                                         &kGpuPciDevicesScanned, &kGpuDevices, &kGpuNvml,
                                                         &kGpuNvidiaKernelDriver};

// gpu.compute
inline constexpr ClaimSpec kGpuComputeDriverVersion{"gpu.compute", "cuda_driver_version", "", ClaimType::kString, "CUDA driver API version"};
inline constexpr ClaimSpec kGpuComputeDeviceCount{"gpu.compute", "device_count", "count", ClaimType::kInteger, "CUDA devices", {}, "resmeter_gpu_compute_devices"};
inline constexpr ClaimSpec kGpuComputeDevices{"gpu.compute", "devices", "", ClaimType::kArray, "per CUDA device: identity, verified result, timings, FLOP/s and the ratio to the model's peak"};
inline constexpr const ClaimSpec* kGpuComputeClaims[] = {&kGpuComputeDriverVersion, &kGpuComputeDeviceCount,
                                                         &kGpuComputeDevices};

// time (the same keys as the report's `time` claim, which the metrics export)
inline constexpr ClaimSpec kTimeSynchronized{"time", "synchronized", "", ClaimType::kBool, "chronyd reports the clock synchronized", {}, "resmeter_time_synchronized"};
inline constexpr ClaimSpec kTimeTrusted{"time", "trusted", "", ClaimType::kBool, "synchronized over NTS within the error bound: the time assessment holds", {}, "resmeter_time_trusted"};
inline constexpr ClaimSpec kTimeNts{"time", "nts_authenticated", "", ClaimType::kBool, "the selected source is NTS-authenticated", {}, "resmeter_time_nts_authenticated"};
inline constexpr ClaimSpec kTimeStratum{"time", "stratum", "count", ClaimType::kInteger, "NTP stratum of the clock", {}, "resmeter_time_stratum"};
inline constexpr ClaimSpec kTimeServer{"time", "server", "", ClaimType::kString, "the selected time source"};
inline constexpr ClaimSpec kTimeLeapStatus{"time", "leap_status", "", ClaimType::kString, "chronyd's leap status"};
inline constexpr ClaimSpec kTimeOffset{"time", "offset_seconds", "seconds", ClaimType::kNumber, "chronyd's current correction of the system clock", {}, "resmeter_time_offset_seconds"};
inline constexpr ClaimSpec kTimeRootDelay{"time", "root_delay_seconds", "seconds", ClaimType::kNumber, "round-trip delay to the stratum-1 root", {}, "resmeter_time_root_delay_seconds"};
inline constexpr ClaimSpec kTimeRootDispersion{"time", "root_dispersion_seconds", "seconds", ClaimType::kNumber, "dispersion accumulated up to the root", {}, "resmeter_time_root_dispersion_seconds"};
inline constexpr ClaimSpec kTimeSinceUpdate{"time", "since_last_update_seconds", "seconds", ClaimType::kNumber, "time since chronyd last updated the clock", {}, "resmeter_time_since_last_update_seconds"};
inline constexpr ClaimSpec kTimeErrorBound{"time", "error_bound_seconds", "seconds", ClaimType::kNumber, "bound on the clock's distance from true time", {}, "resmeter_time_error_bound_seconds"};
inline constexpr const ClaimSpec* kTimeClaims[] = {&kTimeSynchronized, &kTimeTrusted, &kTimeNts, &kTimeStratum,
                                                   &kTimeServer, &kTimeLeapStatus, &kTimeOffset, &kTimeRootDelay,
                                                   &kTimeRootDispersion, &kTimeSinceUpdate, &kTimeErrorBound};

}  // namespace resmeter
