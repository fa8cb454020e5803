#include "gpu/amdgpu_sysfs.h"

namespace resmeter {
namespace {

// A trimmed attribute, or "" when absent.
std::string ReadText(const Env& env, const std::string& path) {
  auto v = ReadTrimmedFile(env, path);
  return v.ok() ? *v : "";
}

// A non-negative integer attribute, or nullopt.
std::optional<uint64_t> ReadBytes(const Env& env, const std::string& path) {
  auto v = ReadIntFile(env, path);
  if (!v.ok() || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

}  // namespace

AmdGpuSysfs ReadAmdGpuSysfs(const Env& env, const std::string& sys_root, const std::string& bus_id) {
  const std::string dir = sys_root + "/bus/pci/devices/" + bus_id + "/";
  AmdGpuSysfs a;
  a.vram_total_bytes = ReadBytes(env, dir + "mem_info_vram_total");
  a.vis_vram_total_bytes = ReadBytes(env, dir + "mem_info_vis_vram_total");
  a.gtt_total_bytes = ReadBytes(env, dir + "mem_info_gtt_total");
  a.vbios_version = ReadText(env, dir + "vbios_version");
  a.product_name = ReadText(env, dir + "product_name");
  a.product_number = ReadText(env, dir + "product_number");
  a.serial_number = ReadText(env, dir + "serial_number");
  a.unique_id = ReadText(env, dir + "unique_id");
  return a;
}

}  // namespace resmeter
