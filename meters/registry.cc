// The one table of meters. Keep rows in report order.
#include "meters/registry.h"

#include "gpu/cuda_challenge.h"
#include "gpu/gpu_devices_meter.h"

namespace resmeter {

const std::vector<MeterInfo>& MeterRegistry() {
  static const std::vector<MeterInfo> kMeters = {
      {"gpu.devices", MeterKind::kLight, 10.0, true,
       "GPUs from PCI sysfs, NVML, the NVIDIA driver and amdgpu, cross-checked against each other",
       GpuDevicesMeterOptions(), [] { return std::make_unique<GpuDevicesMeter>(); }},
      {"gpu.compute", MeterKind::kHeavy, 120.0, true,
       "timed, exactly verified FP32 matrix multiply on each NVIDIA GPU through the CUDA driver API",
       CudaChallengeMeterOptions(), [] { return std::make_unique<CudaChallengeMeter>(); }},
  };
  return kMeters;
}

const MeterInfo* FindMeter(const std::string& name) {
  for (const auto& m : MeterRegistry()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace resmeter
