#include "gpu/nvidia_proc.h"

#include <algorithm>

#include "core/strings.h"
#include "gpu/pci_scan.h"

namespace resmeter {
namespace {

// True for "535.104.05"-like tokens: digits and dots with at least one dot.
bool LooksLikeVersion(std::string_view t) {
  if (t.empty() || t.find('.') == std::string_view::npos) return false;
  return std::all_of(t.begin(), t.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

}  // namespace

NvidiaProcGpu ParseNvidiaGpuInformation(const std::string& text) {
  NvidiaProcGpu gpu;
  for (auto line : Split(text, '\n')) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = Trim(line.substr(0, colon));
    std::string value(Trim(line.substr(colon + 1)));
    if (key == "Model")
      gpu.model = value;
    else if (key == "GPU UUID")
      gpu.uuid = value;
    else if (key == "Video BIOS")
      gpu.vbios_version = value;
    else if (key == "Bus Type")
      gpu.bus_type = value;
    else if (key == "Bus Location")
      gpu.bus_id = NormalizePciBusId(value).value_or(value);
    else if (key == "Device Minor")
      gpu.device_minor = ParseInt64(value);
    else if (key == "GPU Excluded")
      gpu.excluded = (value == "Yes");
  }
  return gpu;
}

std::optional<std::string> ParseNvrmVersion(const std::string& text) {
  for (auto line : Split(text, '\n')) {
    if (!StartsWith(Trim(line), "NVRM version:")) continue;
    for (auto tok : SplitWhitespace(line)) {
      if (LooksLikeVersion(tok)) return std::string(tok);
    }
  }
  return std::nullopt;
}

Result<NvidiaProcInfo> ReadNvidiaProc(const Env& env, const std::string& proc_root) {
  NvidiaProcInfo info;
  const std::string base = proc_root + "/driver/nvidia";
  if (!env.Exists(base)) return info;
  info.driver_loaded = true;
  if (auto v = env.ReadFile(base + "/version"); v.ok()) {
    info.kernel_module_version = ParseNvrmVersion(*v).value_or("");
  }
  auto dirs = env.ListDir(base + "/gpus");
  if (!dirs.ok()) {
    if (dirs.status().code() == Status::Code::kNotFound) return info;
    return dirs.status();
  }
  for (const auto& d : *dirs) {
    auto text = env.ReadFile(base + "/gpus/" + d + "/information");
    if (!text.ok()) continue;
    NvidiaProcGpu gpu = ParseNvidiaGpuInformation(*text);
    if (gpu.bus_id.empty()) gpu.bus_id = NormalizePciBusId(d).value_or(d);
    info.gpus.push_back(std::move(gpu));
  }
  std::sort(info.gpus.begin(), info.gpus.end(),
            [](const NvidiaProcGpu& a, const NvidiaProcGpu& b) { return a.bus_id < b.bus_id; });
  return info;
}

}  // namespace resmeter
