#include "meters/memory/memory_capacity.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "claims/memory_claim_specs.h"
#include "core/strings.h"
#include "meters/cpu/hwloc_snapshot.h"
#include "meters/memory/memory_accounting.h"

namespace resmeter {
namespace {

// Reads and parses one meminfo file through the environment.
Result<std::map<std::string, uint64_t>> ReadMeminfo(const Env& env, const std::string& path) {
  RESMETER_ASSIGN_OR_RETURN(std::string text, env.ReadFile(path));
  Result<std::map<std::string, uint64_t>> parsed = ParseMeminfo(text);
  if (!parsed.ok()) return parsed.status().WithContext(path);
  return parsed;
}

// Sets the claim `spec` to values[key] when the key is present.
void ClaimIfPresent(nlohmann::json& claims, const std::map<std::string, uint64_t>& values,
                    const std::string& key, const ClaimSpec& spec) {
  auto it = values.find(key);
  if (it != values.end()) SetClaim(claims, spec, it->second);
}

// Huge page pools by page size from <sys>/kernel/mm/hugepages; empty array when absent.
nlohmann::json ReadHugepagePools(const MeterContext& ctx) {
  nlohmann::json pools = nlohmann::json::array();
  const std::string dir = ctx.Sys("kernel/mm/hugepages");
  Result<std::vector<std::string>> names = ctx.env->ListDir(dir);
  if (!names.ok()) return pools;
  for (const std::string& name : *names) {  // hugepages-2048kB
    if (!StartsWith(name, "hugepages-") || !EndsWith(name, "kB")) continue;
    std::optional<uint64_t> kb = ParseUint64(std::string_view(name).substr(10, name.size() - 12));
    Result<int64_t> total = ReadIntFile(*ctx.env, dir + "/" + name + "/nr_hugepages");
    Result<int64_t> free = ReadIntFile(*ctx.env, dir + "/" + name + "/free_hugepages");
    if (!kb || !total.ok() || !free.ok()) continue;
    pools.push_back({{"page_size_bytes", *kb * 1024}, {"total", *total}, {"free", *free}});
  }
  std::sort(pools.begin(), pools.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["page_size_bytes"].get<uint64_t>() < b["page_size_bytes"].get<uint64_t>();
  });
  return pools;
}

// Online and offline memory blocks under <sys>/devices/system/memory (the
// hot-plug view), in bytes. NotFound when the directory or its block size is missing.
struct MemoryBlocks {
  uint64_t block_size = 0;
  uint64_t online_bytes = 0;
  uint64_t offline_bytes = 0;
};
Result<MemoryBlocks> ReadMemoryBlocks(const MeterContext& ctx) {
  const std::string dir = ctx.Sys("devices/system/memory");
  RESMETER_ASSIGN_OR_RETURN(std::string size_text, ctx.env->ReadFile(dir + "/block_size_bytes"));
  const std::string hex(Trim(size_text));
  char* end = nullptr;
  const unsigned long long size = std::strtoull(hex.c_str(), &end, 16);  // the kernel prints it in hex
  if (hex.empty() || *end != '\0' || size == 0)
    return Status::Corruption(dir + "/block_size_bytes: not a hex size: '" + hex + "'");
  RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> names, ctx.env->ListDir(dir));
  MemoryBlocks b;
  b.block_size = size;
  for (const std::string& name : names) {
    if (!StartsWith(name, "memory") || !ParseUint64(std::string_view(name).substr(6))) continue;
    Result<std::string> state = ctx.env->ReadFile(dir + "/" + name + "/state");
    if (!state.ok()) continue;
    (Trim(*state) == "online" ? b.online_bytes : b.offline_bytes) += size;
  }
  if (b.online_bytes == 0) return Status::NotFound(dir + ": no online memory block");
  return b;
}

}  // namespace

Result<std::map<std::string, uint64_t>> ParseMeminfo(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (std::string_view line : Split(text, '\n')) {
    if (Trim(line).empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return Status::Corruption("meminfo: no ':' in line '" + std::string(line) + "'");
    std::vector<std::string_view> key_parts = SplitWhitespace(line.substr(0, colon));
    std::vector<std::string_view> value_parts = SplitWhitespace(line.substr(colon + 1));
    // "Node 0 MemTotal" -> "MemTotal"
    if (key_parts.size() == 3 && key_parts[0] == "Node")
      key_parts.erase(key_parts.begin(), key_parts.begin() + 2);
    std::optional<uint64_t> value = value_parts.empty() ? std::nullopt : ParseUint64(value_parts[0]);
    if (key_parts.size() != 1 || !value || value_parts.size() > 2 ||
        (value_parts.size() == 2 && value_parts[1] != "kB")) {
      return Status::Corruption("meminfo: malformed line '" + std::string(line) + "'");
    }
    out[std::string(key_parts[0])] = value_parts.size() == 2 ? *value * 1024 : *value;
  }
  return out;
}

double MaxRelativeDifference(uint64_t reference, const std::vector<uint64_t>& others) {
  double worst = 0;
  for (uint64_t v : others) {
    double diff = std::fabs(static_cast<double>(v) - static_cast<double>(reference));
    worst = std::max(worst, reference > 0 ? diff / static_cast<double>(reference) : (v > 0 ? 1.0 : 0.0));
  }
  return worst;
}

MeterResult MemoryCapacityMeter::Measure(MeterContext& ctx) {
  const std::string meminfo_path = ctx.Proc("meminfo");
  Result<std::map<std::string, uint64_t>> meminfo = ReadMeminfo(*ctx.env, meminfo_path);
  if (!meminfo.ok()) {
    if (meminfo.status().code() == Status::Code::kNotFound)
      return MeterResult::Unavailable(meminfo_path + " is missing");
    return MeterResult::Failed(meminfo.status().message());
  }
  if (!meminfo->count("MemTotal")) return MeterResult::Unavailable(meminfo_path + " has no MemTotal");
  const double tolerance =
      ctx.options.Has("mismatch_tolerance_ratio") ? ctx.options.Double("mismatch_tolerance_ratio") : 0.05;

  MeterResult r = MeterResult::Ok();
  const uint64_t mem_total = meminfo->at("MemTotal");
  SetClaim(r.claims, kMemTotalBytes, mem_total);
  ClaimIfPresent(r.claims, *meminfo, "MemFree", kMemFreeBytes);
  ClaimIfPresent(r.claims, *meminfo, "MemAvailable", kMemAvailableBytes);
  ClaimIfPresent(r.claims, *meminfo, "HugePages_Total", kMemHugepages);
  ClaimIfPresent(r.claims, *meminfo, "HugePages_Free", kMemHugepagesFree);
  ClaimIfPresent(r.claims, *meminfo, "Hugepagesize", kMemHugepageSizeBytes);
  ClaimIfPresent(r.claims, *meminfo, "Hugetlb", kMemHugetlbBytes);
  nlohmann::json pools = ReadHugepagePools(ctx);
  if (!pools.empty()) SetClaim(r.claims, kMemHugepagePools, std::move(pools));

  nlohmann::json sources = {{"proc_meminfo_bytes", mem_total}};
  MemorySources src;
  src.meminfo_total = mem_total;

  // NUMA memory as the kernel's per-node files say.
  const std::string node_dir = ctx.Sys("devices/system/node");
  Result<std::vector<std::string>> entries = ctx.env->ListDir(node_dir);
  nlohmann::json nodes = nlohmann::json::array();
  uint64_t numa_total = 0;
  std::string numa_problem;
  if (entries.ok()) {
    for (const std::string& name : *entries) {
      std::optional<int64_t> index =
          StartsWith(name, "node") ? ParseInt64(std::string_view(name).substr(4)) : std::nullopt;
      if (!index) continue;
      Result<std::map<std::string, uint64_t>> node =
          ReadMeminfo(*ctx.env, node_dir + "/" + name + "/meminfo");
      if (!node.ok() || !node->count("MemTotal")) {
        numa_problem =
            node.ok() ? node_dir + "/" + name + "/meminfo has no MemTotal" : node.status().message();
        break;
      }
      nlohmann::json j = {{"node", *index}, {"mem_total_bytes", node->at("MemTotal")}};
      ClaimIfPresent(j, *node, "MemFree", kMemFreeBytes);
      ClaimIfPresent(j, *node, "HugePages_Total", kMemHugepages);
      numa_total += node->at("MemTotal");
      nodes.push_back(std::move(j));
    }
    if (nodes.empty() && numa_problem.empty()) numa_problem = node_dir + " lists no nodes";
  } else {
    numa_problem = entries.status().message();
  }
  std::sort(nodes.begin(), nodes.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["node"].get<int64_t>() < b["node"].get<int64_t>();
  });
  if (numa_problem.empty()) {
    SetClaim(r.claims, kMemNumaNodes, static_cast<int>(nodes.size()));
    SetClaim(r.claims, kMemNuma, std::move(nodes));
    SetClaim(r.claims, kMemNumaTotalBytes, numa_total);
    sources["sysfs_numa_bytes"] = numa_total;
    src.node_total = numa_total;
  } else {
    r.conditions["sysfs_numa_unavailable"] = numa_problem;
  }

  // NUMA memory as hwloc sees it. Without sysfs nodes hwloc copies /proc/meminfo,
  // so it is only an independent source when the node files exist.
  HwlocRoot root = ResolveHwlocRoot(ctx.proc_root, ctx.sys_root);
  r.conditions["hwloc_fsroot"] = root.fsroot;
  if (!root.note.empty()) r.conditions["hwloc_root_note"] = root.note;
  Result<HwlocSnapshot> topo = LoadHwlocSnapshot(root.fsroot);
  if (!topo.ok()) {
    r.conditions["hwloc_unavailable"] = topo.status().message();
  } else {
    uint64_t hwloc_total = 0;
    for (const auto& n : topo->numa_nodes) hwloc_total += n.local_memory_bytes;
    SetClaim(r.claims, kMemHwlocNumaNodes, static_cast<int>(topo->numa_nodes.size()));
    SetClaim(r.claims, kMemHwlocNumaTotalBytes, hwloc_total);
    if (numa_problem.empty()) {
      sources["hwloc_numa_bytes"] = hwloc_total;
      src.hwloc_total = hwloc_total;
    } else {
      r.conditions["hwloc_not_independent"] =
          "no sysfs NUMA nodes; hwloc's figure derives from /proc/meminfo";
    }
  }

  // Zone page counts: what the node files count (managed) next to what is present.
  const uint64_t page_bytes = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  Result<std::string> zoneinfo_text = ctx.env->ReadFile(ctx.Proc("zoneinfo"));
  Result<ZonePages> zones =
      zoneinfo_text.ok() ? ParseZoneinfo(*zoneinfo_text) : Result<ZonePages>(zoneinfo_text.status());
  if (zones.ok()) {
    src.zone_present = zones->present * page_bytes;
    src.zone_managed = zones->managed * page_bytes;
    SetClaim(r.claims, kMemZonePresentBytes, *src.zone_present);
    SetClaim(r.claims, kMemZoneManagedBytes, *src.zone_managed);
    // Counted by MemTotal but not (yet) in the allocator: deferred init, or reserved.
    SetClaim(r.claims, kMemMeminfoAboveManagedBytes,
             mem_total > *src.zone_managed ? mem_total - *src.zone_managed : 0);
    SetClaim(r.claims, kMemPresentNotInMeminfoBytes,
             *src.zone_present > mem_total ? *src.zone_present - mem_total : 0);
    sources["zone_present_bytes"] = *src.zone_present;
    sources["zone_managed_bytes"] = *src.zone_managed;
  } else {
    r.conditions["zoneinfo_unavailable"] = zones.status().message();
  }
  Result<MemoryBlocks> blocks = ReadMemoryBlocks(ctx);
  if (blocks.ok()) {
    src.blocks_online = blocks->online_bytes;
    src.block_size = blocks->block_size;
    SetClaim(r.claims, kMemBlocksOnlineBytes, blocks->online_bytes);
    SetClaim(r.claims, kMemBlocksOfflineBytes, blocks->offline_bytes);
    SetClaim(r.claims, kMemBlockSizeBytes, blocks->block_size);
    sources["memory_blocks_online_bytes"] = blocks->online_bytes;
  } else {
    r.conditions["memory_blocks_unavailable"] = blocks.status().message();
  }
  Result<std::string> cmdline = ctx.env->ReadFile(ctx.Proc("cmdline"));
  if (cmdline.ok()) {
    for (std::string_view arg : SplitWhitespace(*cmdline)) {
      if (StartsWith(arg, "deferred_init="))
        r.conditions["kernel_deferred_init"] = std::string(arg.substr(14));
    }
  }

  MemoryTolerances tol;
  tol.mismatch_ratio = tolerance;
  if (ctx.options.Has("reserved_tolerance_ratio"))
    tol.reserved_ratio = ctx.options.Double("reserved_tolerance_ratio");
  const MemoryComparison cmp = CompareMemorySources(src, tol);
  r.conditions["mismatch_tolerance_ratio"] = tolerance;
  r.conditions["reserved_tolerance_ratio"] = tol.reserved_ratio;
  r.conditions["sources"] = sources;
  r.conditions["comparison_model"] =
      cmp.model == "zoneinfo"
          ? "like with like: node files = zone managed pages <= MemTotal <= zone present pages (MemTotal may "
            "count pages not yet initialised); present - MemTotal within the reserved bound; memory blocks = "
            "present"
          : "no /proc/zoneinfo: node files and hwloc compared with MemTotal";
  if (cmp.checks.empty()) {
    r.conditions["cross_check"] = "only /proc/meminfo available; nothing to compare";
  } else {
    SetClaim(r.claims, kMemChecks, MemoryChecksToJson(cmp));
    SetClaim(r.claims, kMemTotalMaxDifference, cmp.worst_excess_ratio);
    SetClaim(r.claims, kMemTotalsAgree, cmp.agree);
  }
  if (!cmp.agree) {
    nlohmann::json details = sources;
    details["max_difference_ratio"] = cmp.worst_excess_ratio;
    details["tolerance_ratio"] = tolerance;
    nlohmann::json failed = nlohmann::json::array();
    for (const MemoryCheck& c : cmp.checks) {
      if (!c.holds) failed.push_back(c.relation);
    }
    details["failed_relations"] = failed;
    r.findings.push_back(
        {"memory_total_mismatch",
         "memory figures of /proc/meminfo, /proc/zoneinfo, sysfs NUMA nodes, memory blocks and "
         "hwloc cannot all be true",
         details});
  }
  return r;
}

}  // namespace resmeter
