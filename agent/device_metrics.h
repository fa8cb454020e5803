// Per-GPU series from the last ok run of the GPU meters, so a dashboard can
// show each GPU without knowing the claims' per-device layout (the declared
// claim gauges cover top-level claims only; disk.io's per-workload numbers
// are declared claims with workload and queue_depth labels):
//
//   gpu.devices (light):
//     resmeter_gpu_info{gpu,vendor_id,device_id,name,uuid,driver} 1
//     resmeter_gpu_memory_bytes{gpu}             (NVML total memory)
//     resmeter_gpu_pcie_link_width_lanes{gpu}, resmeter_gpu_pcie_link_max_width_lanes{gpu}
//     resmeter_gpu_pcie_link_speed_transfers_per_second{gpu} (+ _max_)
//     resmeter_gpu_power_limit_watts{gpu}, resmeter_gpu_max_sm_clock_hertz{gpu}
//   gpu.compute (heavy):
//     resmeter_gpu_fp32_matmul_flops_per_second{gpu}, resmeter_gpu_peak_ratio{gpu},
//     resmeter_gpu_result_verified{gpu}
//
// `gpu` is the PCI bus id. Label values come from the meters (the host's
// sysfs and drivers), so they are cut to kMaxDeviceLabelBytes and at most
// kMaxDevices devices are exported. Pure.
#pragma once

#include <prometheus/metric_family.h>

#include <map>
#include <string>
#include <vector>

#include "agent/agent_state.h"

namespace resmeter {

inline constexpr size_t kMaxDevices = 64;
inline constexpr size_t kMaxDeviceLabelBytes = 128;

std::vector<prometheus::MetricFamily> DeviceFamilies(const std::map<std::string, MeterRecord>& meters);

}  // namespace resmeter
