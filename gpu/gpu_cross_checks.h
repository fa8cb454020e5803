// GPU cross-checks: compare independent views of the GPUs (PCI sysfs, the
// pci.ids names, NVML, the NVIDIA kernel driver's proc files, the UUIDs seen
// on the last run) and turn every disagreement into a Finding.
//
// Finding codes (stable):
//   gpu_count_mismatch        NVML device count != NVIDIA GPUs on the PCI bus
//   gpu_not_on_pci            an NVML GPU whose PCI bus id has no PCI GPU
//   gpu_pci_id_mismatch       NVML's PCI vendor/device id != sysfs at that bus id
//   gpu_name_mismatch         NVML's name does not name the PCI device (via pci.ids)
//   gpu_duplicate_identity    two NVML GPUs share a UUID or a bus id
//   gpu_uuid_mismatch         NVML and the kernel driver disagree on a GPU's UUID
//   gpu_uuid_changed          the set of GPU UUIDs differs from the last run
//   driver_version_impossible a driver version string no Linux driver has
//   driver_version_mismatch   NVML's driver version != the kernel module's
// Pure functions except the state file helpers; thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "gpu/nvidia_proc.h"
#include "gpu/nvml_loader.h"
#include "gpu/pci_ids.h"
#include "gpu/pci_scan.h"
#include "meters/api/meter.h"

namespace resmeter {

// NVML against PCI: count, presence by bus id, PCI ids, names, duplicates.
// `ids` may be null (pci.ids absent): the name check is then skipped.
std::vector<Finding> CheckNvmlAgainstPci(const PciScan& pci, const PciIds* ids, const NvmlSnapshot& nvml);

// The kernel driver's GPUs against NVML (UUIDs per bus id).
std::vector<Finding> CheckProcAgainstNvml(const NvidiaProcInfo& proc, const NvmlSnapshot& nvml);

// Driver versions: each non-empty one must be possible on Linux; the two must agree.
std::vector<Finding> CheckDriverVersions(const std::string& nvml_version, const std::string& kernel_version);

// Why a Linux NVIDIA driver version string cannot exist, or nullopt when it can.
// Linux versions are MAJOR.MINOR[.PATCH]: a three-digit major (>= 200 for any
// driver that ships NVML), a two- or three-digit minor, a two-digit patch.
std::optional<std::string> ImpossibleDriverVersionReason(const std::string& version);

// The model token of a marketing name: "NVIDIA H100 80GB HBM3" -> "H100",
// "NVIDIA GeForce RTX 4090" -> "4090", "NVIDIA A100-SXM4-80GB" -> "A100".
std::string GpuModelToken(const std::string& name);

// Whether `pci_name` (a pci.ids device name) names the model in `marketing_name`:
// the model token must appear in it as a whole word (case-insensitive).
bool NameMatchesPciName(const std::string& marketing_name, const std::string& pci_name);

// GPU UUIDs by bus id, as kept between runs.
using GpuUuidMap = std::map<std::string, std::string>;

// The state file inside a state directory.
std::string GpuUuidStatePath(const std::string& state_dir);
// Reads the last run's UUIDs (NotFound on the first run, Corruption if unreadable).
Result<GpuUuidMap> LoadGpuUuidState(const Env& env, const std::string& path);
// Writes the UUIDs atomically (temp file + rename), mode 0600, in the state
// directory opened with SafeDir's checks (a symlinked file or an unsafe
// directory is refused).
Status SaveGpuUuidState(const std::string& path, const GpuUuidMap& uuids);
// A gpu_uuid_changed finding when the UUID sets differ, else nullopt.
std::optional<Finding> CompareGpuUuids(const GpuUuidMap& previous, const GpuUuidMap& current);

}  // namespace resmeter
