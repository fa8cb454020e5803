#include "meters/cpu/cpu_claims.h"

#include "core/strings.h"

namespace resmeter {
namespace {

// Returns the value after ':' of the first line whose key (before ':') is `key`.
std::optional<std::string_view> FirstField(std::string_view text, std::string_view key) {
  for (std::string_view line : Split(text, '\n')) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (Trim(line.substr(0, colon)) == key) return Trim(line.substr(colon + 1));
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> ParseModelNameHz(std::string_view cpuinfo) {
  auto name = FirstField(cpuinfo, "model name");
  if (!name) return std::nullopt;
  size_t at = name->rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = Trim(name->substr(at + 1));
  double scale = 0;
  if (EndsWith(rest, "GHz"))
    scale = 1e9;
  else if (EndsWith(rest, "MHz"))
    scale = 1e6;
  else
    return std::nullopt;
  auto v = ParseDouble(Trim(rest.substr(0, rest.size() - 3)));
  if (!v || *v <= 0) return std::nullopt;
  return *v * scale;
}

std::optional<double> ParseCpuMhzHz(std::string_view cpuinfo) {
  auto mhz = FirstField(cpuinfo, "cpu MHz");
  if (!mhz) return std::nullopt;
  auto v = ParseDouble(*mhz);
  if (!v || *v <= 0) return std::nullopt;
  return *v * 1e6;
}

bool CpuinfoHasFlag(std::string_view cpuinfo, std::string_view flag) {
  auto flags = FirstField(cpuinfo, "flags");
  if (!flags) return false;
  for (std::string_view f : SplitWhitespace(*flags))
    if (f == flag) return true;
  return false;
}

bool HasInvariantTsc(std::string_view cpuinfo) {
  return CpuinfoHasFlag(cpuinfo, "constant_tsc") && CpuinfoHasFlag(cpuinfo, "nonstop_tsc");
}

Result<NominalFrequency> ReadNominalFrequency(const MeterContext& ctx) {
  const std::string cpufreq = ctx.Sys("devices/system/cpu/cpu0/cpufreq/");
  if (auto base = ReadIntFile(*ctx.env, cpufreq + "base_frequency"); base.ok() && *base > 0) {
    return NominalFrequency{static_cast<double>(*base) * 1e3, "cpufreq base_frequency"};
  }
  Result<std::string> cpuinfo = ctx.env->ReadFile(ctx.Proc("cpuinfo"));
  if (cpuinfo.ok()) {
    if (auto hz = ParseModelNameHz(*cpuinfo)) return NominalFrequency{*hz, "/proc/cpuinfo model name"};
  }
  if (auto max = ReadIntFile(*ctx.env, cpufreq + "cpuinfo_max_freq"); max.ok() && *max > 0) {
    return NominalFrequency{static_cast<double>(*max) * 1e3, "cpufreq cpuinfo_max_freq"};
  }
  if (cpuinfo.ok()) {
    if (auto hz = ParseCpuMhzHz(*cpuinfo)) return NominalFrequency{*hz, "/proc/cpuinfo cpu MHz"};
  }
  return Status::NotFound(ctx.Proc("cpuinfo") + ": no nominal frequency (no cpufreq, model name or cpu MHz)");
}

std::optional<uint64_t> ReadThermalThrottleCount(const MeterContext& ctx) {
  const std::string root = ctx.Sys("devices/system/cpu");
  Result<std::vector<std::string>> entries = ctx.env->ListDir(root);
  if (!entries.ok()) return std::nullopt;
  bool any = false;
  uint64_t total = 0;
  for (const std::string& name : *entries) {
    if (!StartsWith(name, "cpu") || !ParseInt64(std::string_view(name).substr(3))) continue;
    for (const char* counter : {"core_throttle_count", "package_throttle_count"}) {
      auto v = ReadIntFile(*ctx.env, root + "/" + name + "/thermal_throttle/" + counter);
      if (v.ok() && *v >= 0) {
        any = true;
        total += static_cast<uint64_t>(*v);
      }
    }
  }
  if (!any) return std::nullopt;
  return total;
}

}  // namespace resmeter
