// gpu.devices (light): which GPUs this machine really has.
//
// PCI sysfs is the base measurement (a PCI scan that finds no display/3D
// controller is "no GPU", status ok with gpu_count 0). Each PCI GPU is named
// from pci.ids and enriched with NVML (dlopen'd; absent = unavailable, not a
// failure), the NVIDIA kernel driver's proc files and amdgpu's sysfs. The
// sources are then cross-checked (gpu/gpu_cross_checks.h) and the UUID set is
// compared with the last run's, kept in ctx.state_dir.
//
// Threading: Measure() is self-contained; no state outlives a call except the
// UUID state file.
#pragma once

#include <memory>
#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"

namespace resmeter {

class GpuDevicesMeter final : public Meter {
 public:
  // Scans, enriches and cross-checks; see the file comment.
  MeterResult Measure(MeterContext& ctx) override;
};

// The meter's options (pci_ids_path, nvml_library, use_nvml) for its registry row.
std::vector<OptionSpec> GpuDevicesMeterOptions();

}  // namespace resmeter
