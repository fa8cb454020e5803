#include "meters/memory/cache_info.h"

#include <algorithm>

#include "core/strings.h"
#include "meters/cpu/hwloc_snapshot.h"

namespace resmeter {

std::optional<uint64_t> ParseCacheSize(std::string_view text) {
  text = Trim(text);
  uint64_t scale = 1;
  if (!text.empty() && (text.back() == 'K' || text.back() == 'M' || text.back() == 'G')) {
    scale = text.back() == 'K' ? 1024 : text.back() == 'M' ? 1024 * 1024 : 1024ull * 1024 * 1024;
    text.remove_suffix(1);
  }
  auto v = ParseUint64(text);
  if (!v) return std::nullopt;
  return *v * scale;
}

Result<std::vector<CacheLevelInfo>> ReadCpuCaches(const MeterContext& ctx, int cpu) {
  const std::string dir = ctx.Sys("devices/system/cpu/cpu" + std::to_string(cpu) + "/cache");
  RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> entries, ctx.env->ListDir(dir));
  std::vector<CacheLevelInfo> out;
  for (const std::string& e : entries) {
    if (!StartsWith(e, "index")) continue;
    const std::string base = dir + "/" + e + "/";
    auto level = ReadIntFile(*ctx.env, base + "level");
    auto type = ReadTrimmedFile(*ctx.env, base + "type");
    auto size = ReadTrimmedFile(*ctx.env, base + "size");
    if (!level.ok() || !type.ok() || !size.ok()) continue;
    auto bytes = ParseCacheSize(*size);
    if (!bytes) continue;
    CacheLevelInfo c;
    c.level = static_cast<int>(*level);
    c.type = *type;
    c.size_bytes = *bytes;
    if (auto line = ReadIntFile(*ctx.env, base + "coherency_line_size"); line.ok() && *line > 0) {
      c.line_bytes = static_cast<uint32_t>(*line);
    }
    if (auto shared = ReadTrimmedFile(*ctx.env, base + "shared_cpu_list"); shared.ok())
      c.shared_cpu_list = *shared;
    out.push_back(std::move(c));
  }
  if (out.empty()) return Status::NotFound(dir + ": no readable cache index");
  std::sort(out.begin(), out.end(), [](const CacheLevelInfo& a, const CacheLevelInfo& b) {
    return a.level != b.level ? a.level < b.level : a.type < b.type;
  });
  return out;
}

std::vector<CacheLevelInfo> DataCacheLevels(const std::vector<CacheLevelInfo>& caches) {
  std::vector<CacheLevelInfo> out;
  for (const CacheLevelInfo& c : caches) {
    if (c.type == "Instruction") continue;
    if (!out.empty() && out.back().level == c.level) continue;
    out.push_back(c);
  }
  return out;
}

uint64_t LastLevelCacheBytes(const std::vector<CacheLevelInfo>& caches) {
  std::vector<CacheLevelInfo> data = DataCacheLevels(caches);
  return data.empty() ? 0 : data.back().size_bytes;
}

Result<ReportedCaches> ReportedDataCaches(const MeterContext& ctx, int cpu) {
  Result<std::vector<CacheLevelInfo>> sysfs = ReadCpuCaches(ctx, cpu);
  if (sysfs.ok())
    return ReportedCaches{DataCacheLevels(*sysfs),
                          ctx.Sys("devices/system/cpu/cpu" + std::to_string(cpu) + "/cache")};
  const HwlocRoot root = ResolveHwlocRoot(ctx.proc_root, ctx.sys_root);
  Result<HwlocSnapshot> topo = LoadHwlocSnapshot(root.fsroot);
  if (!topo.ok()) return Status::NotFound(sysfs.status().message() + "; hwloc: " + topo.status().message());
  std::vector<CacheLevelInfo> all;  // hwloc groups come sorted by level, then type (hwloc_snapshot.h)
  for (const HwlocCacheGroup& g : topo->caches) {
    CacheLevelInfo c;
    c.level = g.level;
    c.type = g.type == "data" ? "Data" : g.type == "unified" ? "Unified" : "Instruction";
    c.size_bytes = g.size_bytes;
    c.line_bytes = g.line_size_bytes;
    all.push_back(c);
  }
  std::vector<CacheLevelInfo> levels = DataCacheLevels(all);
  if (levels.empty())
    return Status::NotFound(sysfs.status().message() + "; hwloc reports no data caches either");
  return ReportedCaches{levels, "hwloc " + topo->hwloc_version + " (" + topo->backend + " backend; " +
                                    (root.fsroot == "/" ? "CPUID" : "root " + root.fsroot) +
                                    "): " + sysfs.status().message()};
}

}  // namespace resmeter
