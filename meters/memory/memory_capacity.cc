#include "meters/memory/memory_capacity.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/strings.h"
#include "meters/cpu/hwloc_snapshot.h"

namespace resmeter {
namespace {

// Reads and parses one meminfo file through the environment.
Result<std::map<std::string, uint64_t>> ReadMeminfo(const Env& env, const std::string& path) {
  RESMETER_ASSIGN_OR_RETURN(std::string text, env.ReadFile(path));
  Result<std::map<std::string, uint64_t>> parsed = ParseMeminfo(text);
  if (!parsed.ok()) return parsed.status().WithContext(path);
  return parsed;
}

// Adds claims[name] = values[key] when the key is present.
void ClaimIfPresent(nlohmann::json& claims, const std::map<std::string, uint64_t>& values,
                    const std::string& key, const std::string& name) {
  auto it = values.find(key);
  if (it != values.end()) claims[name] = it->second;
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
  r.claims["mem_total_bytes"] = mem_total;
  ClaimIfPresent(r.claims, *meminfo, "MemFree", "mem_free_bytes");
  ClaimIfPresent(r.claims, *meminfo, "MemAvailable", "mem_available_bytes");
  ClaimIfPresent(r.claims, *meminfo, "HugePages_Total", "hugepages_total");
  ClaimIfPresent(r.claims, *meminfo, "HugePages_Free", "hugepages_free");
  ClaimIfPresent(r.claims, *meminfo, "Hugepagesize", "hugepage_size_bytes");
  ClaimIfPresent(r.claims, *meminfo, "Hugetlb", "hugetlb_bytes");
  nlohmann::json pools = ReadHugepagePools(ctx);
  if (!pools.empty()) r.claims["hugepage_pools"] = std::move(pools);

  nlohmann::json sources = {{"proc_meminfo_bytes", mem_total}};
  std::vector<uint64_t> others;

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
      ClaimIfPresent(j, *node, "MemFree", "mem_free_bytes");
      ClaimIfPresent(j, *node, "HugePages_Total", "hugepages_total");
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
    r.claims["numa_nodes"] = static_cast<int>(nodes.size());
    r.claims["numa"] = std::move(nodes);
    r.claims["numa_total_bytes"] = numa_total;
    sources["sysfs_numa_bytes"] = numa_total;
    others.push_back(numa_total);
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
    r.claims["hwloc_numa_nodes"] = static_cast<int>(topo->numa_nodes.size());
    r.claims["hwloc_numa_total_bytes"] = hwloc_total;
    if (numa_problem.empty()) {
      sources["hwloc_numa_bytes"] = hwloc_total;
      others.push_back(hwloc_total);
    } else {
      r.conditions["hwloc_not_independent"] =
          "no sysfs NUMA nodes; hwloc's figure derives from /proc/meminfo";
    }
  }

  r.conditions["mismatch_tolerance_ratio"] = tolerance;
  r.conditions["sources"] = sources;
  const double worst = MaxRelativeDifference(mem_total, others);
  if (others.empty()) {
    r.conditions["cross_check"] = "only /proc/meminfo available; nothing to compare";
  } else {
    r.claims["total_max_difference_ratio"] = worst;
    r.claims["totals_agree"] = worst <= tolerance;
  }
  if (worst > tolerance) {
    nlohmann::json details = sources;
    details["max_difference_ratio"] = worst;
    details["tolerance_ratio"] = tolerance;
    r.findings.push_back({"memory_total_mismatch",
                          "memory totals disagree across /proc/meminfo, sysfs NUMA nodes and hwloc",
                          details});
  }
  return r;
}

}  // namespace resmeter
