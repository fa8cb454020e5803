// Declared claims of gpu.devices and gpu.compute. Their per-device objects
// are declared as a whole (their members follow NVML, the NVIDIA driver and
// amdgpu; README "Meters"). See claims/claim_spec.h.
#pragma once

#include "claims/claim_spec.h"

namespace resmeter {

// gpu.devices
inline constexpr ClaimSpec kGpuSummary{"gpu.devices", "summary", "", ClaimType::kString,
                                       "one line: the GPUs found, or \"no GPU\""};
inline constexpr ClaimSpec kGpuCount{"gpu.devices",
                                     "gpus",
                                     "count",
                                     ClaimType::kInteger,
                                     "GPUs (display/3D/processing accelerators) on the PCI bus",
                                     "gpu.count",
                                     "resmeter_gpu_devices_gpus",
                                     "gpu_count"};
inline constexpr ClaimSpec kGpuPciBusPresent{"gpu.devices",
                                             "pci_bus_present",
                                             "",
                                             ClaimType::kBool,
                                             "sysfs has a PCI bus at all",
                                             {},
                                             "resmeter_gpu_devices_pci_bus_present"};
inline constexpr ClaimSpec kGpuPciDevicesScanned{"gpu.devices",
                                                 "pci_devices_scanned",
                                                 "count",
                                                 ClaimType::kInteger,
                                                 "PCI functions examined",
                                                 {},
                                                 "resmeter_gpu_devices_pci_devices_scanned"};
inline constexpr ClaimSpec kGpuDevices{
    "gpu.devices",
    "devices",
    "",
    ClaimType::kArray,
    "per GPU: PCI identity and link, and what NVML, the NVIDIA driver and amdgpu say of it",
    "gpu.model, gpu.memory_gib"};
inline constexpr ClaimSpec kGpuNvml{"gpu.devices", "nvml", "", ClaimType::kObject,
                                    "NVML status, versions and device count (or why it is unavailable)"};
inline constexpr ClaimSpec kGpuNvidiaKernelDriver{"gpu.devices", "nvidia_kernel_driver", "",
                                                  ClaimType::kObject,
                                                  "/proc/driver/nvidia: loaded, version, GPU count"};
inline constexpr const ClaimSpec* kGpuDevicesClaims[] = {
    &kGpuSummary, &kGpuCount, &kGpuPciBusPresent,     &kGpuPciDevicesScanned,
    &kGpuDevices, &kGpuNvml,  &kGpuNvidiaKernelDriver};

// gpu.compute
inline constexpr ClaimSpec kGpuComputeDriverVersion{"gpu.compute", "cuda_driver_version", "",
                                                    ClaimType::kString, "CUDA driver API version"};
inline constexpr ClaimSpec kGpuComputeDeviceCount{"gpu.compute",
                                                  "device_count",
                                                  "count",
                                                  ClaimType::kInteger,
                                                  "CUDA devices",
                                                  {},
                                                  "resmeter_gpu_compute_devices"};
inline constexpr ClaimSpec kGpuComputeDevices{
    "gpu.compute", "devices", "", ClaimType::kArray,
    "per CUDA device: identity, verified result, timings, FLOP/s and the ratio to the model's peak"};
inline constexpr const ClaimSpec* kGpuComputeClaims[] = {&kGpuComputeDriverVersion, &kGpuComputeDeviceCount,
                                                         &kGpuComputeDevices};

}  // namespace resmeter
