#include "meters/cpu/cgroup_cpu.h"

#include <vector>

#include "core/strings.h"

namespace resmeter {
namespace {

// Returns "" and every ancestor path of `path` ("/a/b" -> "/a/b", "/a", "").
std::vector<std::string> SelfAndAncestors(std::string path) {
  std::vector<std::string> out;
  while (!path.empty() && path != "/") {
    out.push_back(path);
    size_t slash = path.rfind('/');
    path = slash == std::string::npos ? "" : path.substr(0, slash);
  }
  out.push_back("");
  return out;
}

// Quota in CPUs from v1 files in `dir`; nullopt when unreadable, 0 when unlimited.
std::optional<double> ReadV1Quota(const Env& env, const std::string& dir) {
  auto quota = ReadIntFile(env, dir + "/cpu.cfs_quota_us");
  auto period = ReadIntFile(env, dir + "/cpu.cfs_period_us");
  if (!quota.ok() || !period.ok() || *period <= 0) return std::nullopt;
  if (*quota < 0) return 0.0;
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

// Adds the throttle counters of one cpu.stat file (if readable) to `out`.
void AddCpuStat(const Env& env, const std::string& path, CgroupCpuLimit* out) {
  auto stat = env.ReadFile(path);
  if (!stat.ok()) return;
  CgroupCpuLimit one;
  ParseCpuStat(*stat, &one);
  out->nr_throttled += one.nr_throttled;
  out->throttled_seconds += one.throttled_seconds;
}

}  // namespace

std::optional<double> ParseCpuMax(std::string_view text) {
  std::vector<std::string_view> f = SplitWhitespace(text);
  if (f.size() != 2) return std::nullopt;
  auto period = ParseInt64(f[1]);
  if (!period || *period <= 0) return std::nullopt;
  if (f[0] == "max") return 0.0;
  auto quota = ParseInt64(f[0]);
  if (!quota || *quota <= 0) return std::nullopt;
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

void ParseCpuStat(std::string_view text, CgroupCpuLimit* out) {
  for (std::string_view line : Split(text, '\n')) {
    std::vector<std::string_view> f = SplitWhitespace(line);
    if (f.size() != 2) continue;
    auto v = ParseUint64(f[1]);
    if (!v) continue;
    if (f[0] == "nr_throttled") out->nr_throttled = *v;
    if (f[0] == "throttled_time") out->throttled_seconds = static_cast<double>(*v) * 1e-9;
    if (f[0] == "throttled_usec") out->throttled_seconds = static_cast<double>(*v) * 1e-6;
  }
}

Result<CgroupCpuLimit> ReadCgroupCpuLimit(const MeterContext& ctx) {
  const Env& env = *ctx.env;
  RESMETER_ASSIGN_OR_RETURN(std::string self, env.ReadFile(ctx.Proc("self/cgroup")));
  const std::string base = ctx.Sys("fs/cgroup");
  std::optional<std::string> v2_path;
  for (std::string_view line : Split(self, '\n')) {
    std::vector<std::string_view> f = Split(line, ':');
    if (f.size() < 3) continue;
    std::string path(line.substr(f[0].size() + f[1].size() + 2));
    if (f[1].empty()) {
      v2_path = path;
      continue;
    }
    bool has_cpu = false;
    for (std::string_view c : Split(f[1], ',')) has_cpu = has_cpu || c == "cpu";
    if (!has_cpu) continue;
    for (const char* mount : {"cpu", "cpu,cpuacct", "cpuacct,cpu"}) {
      const std::string root = base + "/" + mount;
      if (!env.Exists(root + "/cpu.cfs_period_us")) continue;
      CgroupCpuLimit out;
      out.version = "v1";
      out.path = path;
      for (const std::string& p : SelfAndAncestors(path)) {
        std::optional<double> q = ReadV1Quota(env, root + p);
        if (q && *q > 0 && (out.quota_cpus == 0 || *q < out.quota_cpus)) out.quota_cpus = *q;
      }
      for (const std::string& p : SelfAndAncestors(path)) AddCpuStat(env, root + p + "/cpu.stat", &out);
      return out;
    }
  }
  if (v2_path) {
    auto controllers = env.ReadFile(base + "/cgroup.controllers");
    bool has_cpu = false;
    if (controllers.ok()) {
      for (std::string_view c : SplitWhitespace(*controllers)) has_cpu = has_cpu || c == "cpu";
    }
    if (has_cpu) {
      CgroupCpuLimit out;
      out.version = "v2";
      out.path = *v2_path;
      for (const std::string& p : SelfAndAncestors(*v2_path)) {
        auto max = env.ReadFile(base + p + "/cpu.max");
        if (!max.ok()) continue;
        std::optional<double> q = ParseCpuMax(*max);
        if (q && *q > 0 && (out.quota_cpus == 0 || *q < out.quota_cpus)) out.quota_cpus = *q;
      }
      for (const std::string& p : SelfAndAncestors(*v2_path)) AddCpuStat(env, base + p + "/cpu.stat", &out);
      return out;
    }
  }
  return Status::NotFound(ctx.Proc("self/cgroup") + ": no cgroup with the cpu controller");
}

}  // namespace resmeter
