#include "meters/cpu/cpu_topology.h"

#include <algorithm>
#include <map>

#include "core/strings.h"
#include "meters/cpu/hwloc_snapshot.h"

namespace resmeter {
namespace {

// The cache groups as report claims.
nlohmann::json CachesToJson(const std::vector<HwlocCacheGroup>& caches) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : caches) {
    nlohmann::json j = {{"level", c.level},
                        {"type", c.type},
                        {"size_bytes", c.size_bytes},
                        {"instances", c.instances},
                        {"shared_by_pus", c.shared_by_pus}};
    if (c.line_size_bytes > 0) j["line_size_bytes"] = c.line_size_bytes;
    if (c.ways != 0) j["ways"] = c.ways;  // -1: fully associative
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

Result<std::vector<int>> ParseCpuList(std::string_view text) {
  std::vector<int> cpus;
  std::string_view trimmed = Trim(text);
  if (trimmed.empty()) return cpus;
  for (std::string_view part : Split(trimmed, ',')) {
    part = Trim(part);
    auto bad = [&]() {
      return Status::Corruption("cpu list '" + std::string(trimmed) + "': bad range '" + std::string(part) +
                                "'");
    };
    if (part.empty()) return bad();
    size_t dash = part.find('-');
    std::optional<int64_t> lo = ParseInt64(part.substr(0, dash));
    std::optional<int64_t> hi = dash == std::string_view::npos ? lo : ParseInt64(part.substr(dash + 1));
    if (!lo || !hi || *lo < 0 || *hi < *lo || *hi > 1'000'000) return bad();
    for (int64_t c = *lo; c <= *hi; ++c) cpus.push_back(static_cast<int>(c));
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

int CountCpuinfoProcessors(std::string_view text) {
  int count = 0;
  for (std::string_view line : Split(text, '\n')) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (Trim(line.substr(0, colon)) == "processor" && ParseInt64(Trim(line.substr(colon + 1)))) ++count;
  }
  return count;
}

MeterResult CpuTopologyMeter::Measure(MeterContext& ctx) {
  const std::string cpu_dir = ctx.Sys("devices/system/cpu");
  if (!ctx.env->Exists(cpu_dir))
    return MeterResult::Unavailable("no CPU topology: " + cpu_dir + " is missing");

  HwlocRoot root = ResolveHwlocRoot(ctx.proc_root, ctx.sys_root);
  Result<HwlocSnapshot> loaded = LoadHwlocSnapshot(root.fsroot);
  if (!loaded.ok()) return MeterResult::Failed(loaded.status().message());
  const HwlocSnapshot& topo = *loaded;
  if (topo.pus <= 0) return MeterResult::Failed("hwloc found no processing units under " + root.fsroot);

  MeterResult r = MeterResult::Ok();
  // hwloc leaves packages/cores out when sysfs has no per-CPU topology files.
  if (topo.packages > 0) r.claims["packages"] = topo.packages;
  if (topo.cores > 0) r.claims["cores"] = topo.cores;
  if (topo.packages == 0 || topo.cores == 0) {
    r.conditions["topology_incomplete"] = "no packages/cores under " + cpu_dir + "/cpu*/topology";
  }
  r.claims["threads"] = topo.pus;
  r.claims["allowed_threads"] = topo.allowed_pus;
  if (topo.cores > 0 && topo.pus % topo.cores == 0) r.claims["threads_per_core"] = topo.pus / topo.cores;
  r.claims["numa_nodes"] = static_cast<int>(topo.numa_nodes.size());
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : topo.numa_nodes) {
    nodes.push_back({{"node", n.os_index}, {"memory_bytes", n.local_memory_bytes}, {"threads", n.pus}});
  }
  r.claims["numa"] = std::move(nodes);
  r.claims["caches"] = CachesToJson(topo.caches);
  if (!topo.cpu_model.empty()) r.claims["cpu_model"] = topo.cpu_model;

  r.conditions["source"] = "hwloc " + topo.hwloc_version + " (" +
                           (topo.backend.empty() ? std::string("unknown") : topo.backend) + " backend)";
  r.conditions["hwloc_fsroot"] = root.fsroot;
  r.conditions["proc_root_honoured_by_hwloc"] = root.proc_root_honoured;
  if (!root.note.empty()) r.conditions["hwloc_root_note"] = root.note;
  if (root.fsroot == "/" && !topo.is_this_system) {
    r.findings.push_back(
        {"hwloc_not_this_system",
         "hwloc loaded a topology that is not this system's (HWLOC_XMLFILE/HWLOC_SYNTHETIC set?)",
         {{"backend", topo.backend}}});
  }

  // Cross-check the PU count against the kernel's online list and /proc/cpuinfo.
  nlohmann::json counts = {{"hwloc_threads", topo.pus}};
  std::vector<std::string> unchecked;
  Result<std::string> online_text = ctx.env->ReadFile(ctx.Sys("devices/system/cpu/online"));
  if (online_text.ok()) {
    Result<std::vector<int>> online = ParseCpuList(*online_text);
    if (online.ok()) {
      r.claims["online_cpus"] = static_cast<int>(online->size());
      counts["sysfs_online_cpus"] = online->size();
    } else {
      unchecked.push_back(online.status().message());
    }
  } else {
    unchecked.push_back(online_text.status().message());
  }
  Result<std::string> cpuinfo = ctx.env->ReadFile(ctx.Proc("cpuinfo"));
  if (cpuinfo.ok() && CountCpuinfoProcessors(*cpuinfo) > 0) {
    int n = CountCpuinfoProcessors(*cpuinfo);
    r.claims["cpuinfo_processors"] = n;
    counts["cpuinfo_processors"] = n;
  } else {
    unchecked.push_back(cpuinfo.ok() ? ctx.Proc("cpuinfo") + ": no processor entries"
                                     : cpuinfo.status().message());
  }
  if (!unchecked.empty()) {
    std::string why;
    for (const auto& u : unchecked) why += (why.empty() ? "" : "; ") + u;
    r.conditions["cross_check_incomplete"] = why;
  }
  bool agree = true;
  for (const auto& [source, value] : counts.items()) agree = agree && value.get<int>() == topo.pus;
  r.claims["cpu_counts_agree"] = agree;
  if (!agree) {
    r.findings.push_back({"cpu_count_mismatch",
                          "hwloc, /sys/devices/system/cpu/online and /proc/cpuinfo disagree on the CPU count",
                          counts});
  }
  return r;
}

}  // namespace resmeter
