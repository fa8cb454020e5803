// The one table of meters. Keep rows in report order.
#include "meters/registry.h"

#include "gpu/gpu_devices_meter.h"

namespace resmeter {

const std::vector<MeterInfo>& MeterRegistry() {
  static const std::vector<MeterInfo> kMeters = {
      {"gpu.devices", MeterKind::kLight, 10.0, true,
       "GPUs from PCI sysfs, NVML, the NVIDIA driver and amdgpu, cross-checked against each other",
       GpuDevicesMeterOptions(), [] { return std::make_unique<GpuDevicesMeter>(); }},
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
