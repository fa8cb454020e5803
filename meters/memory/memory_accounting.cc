#include "meters/memory/memory_accounting.h"

#include <algorithm>

#include "core/strings.h"

namespace resmeter {
namespace {

// A relation `left <= right + slack` as a check; excess over T.
MemoryCheck AtMost(std::string name, std::string relation, uint64_t left, uint64_t right, double slack,
                   uint64_t total) {
  MemoryCheck c;
  c.name = std::move(name);
  c.relation = std::move(relation);
  c.left = left;
  c.right = right;
  const double over = static_cast<double>(left) - static_cast<double>(right) - slack;
  c.holds = over <= 0;
  const double denom = total > 0 ? static_cast<double>(total) : 1.0;
  c.excess_ratio = c.holds ? 0 : over / denom;
  return c;
}

// |left - right| <= slack as a check.
MemoryCheck Near(std::string name, std::string relation, uint64_t left, uint64_t right, double slack,
                 uint64_t total) {
  MemoryCheck a = AtMost(name, relation, left, right, slack, total);
  MemoryCheck b = AtMost(name, relation, right, left, slack, total);
  a.holds = a.holds && b.holds;
  a.excess_ratio = std::max(a.excess_ratio, b.excess_ratio);
  return a;
}

}  // namespace

Result<ZonePages> ParseZoneinfo(std::string_view text) {
  ZonePages out;
  bool in_zone = false, has_present = false, has_managed = false;
  auto close_zone = [&]() -> Status {
    if (in_zone && !(has_present && has_managed))
      return Status::Corruption("zoneinfo: a zone lacks its present or managed line");
    return Status::Ok();
  };
  for (std::string_view line : Split(text, '\n')) {
    std::vector<std::string_view> f = SplitWhitespace(line);
    if (f.empty()) continue;
    if (f[0] == "Node") {  // "Node 0, zone   Normal"
      RESMETER_RETURN_IF_ERROR(close_zone());
      in_zone = true;
      has_present = has_managed = false;
      ++out.zones;
      continue;
    }
    if (!in_zone || f.size() != 2 || (f[0] != "present" && f[0] != "managed")) continue;
    std::optional<uint64_t> v = ParseUint64(f[1]);
    if (!v) return Status::Corruption("zoneinfo: bad count in '" + std::string(Trim(line)) + "'");
    // Only the first present/managed of a zone (the per-zone block lists each once).
    if (f[0] == "present" && !has_present) {
      out.present += *v;
      has_present = true;
    } else if (f[0] == "managed" && !has_managed) {
      out.managed += *v;
      has_managed = true;
    }
  }
  RESMETER_RETURN_IF_ERROR(close_zone());
  if (out.zones == 0) return Status::Corruption("zoneinfo: no zone listed");
  return out;
}

MemoryComparison CompareMemorySources(const MemorySources& s, const MemoryTolerances& t) {
  MemoryComparison out;
  const uint64_t T = s.meminfo_total;
  const double slack = t.mismatch_ratio * static_cast<double>(T);
  if (s.zone_present && s.zone_managed) {
    out.model = "zoneinfo";
    const uint64_t P = *s.zone_present, M = *s.zone_managed;
    if (s.node_total)
      out.checks.push_back(Near("nodes_equal_zone_managed", "N = M", *s.node_total, M, slack, T));
    if (s.hwloc_total && s.node_total)
      out.checks.push_back(Near("hwloc_equals_nodes", "H = N", *s.hwloc_total, *s.node_total, slack, T));
    out.checks.push_back(AtMost("managed_not_above_meminfo", "M <= T", M, T, slack, T));
    out.checks.push_back(AtMost("meminfo_not_above_present", "T <= P", T, P, slack, T));
    out.checks.push_back(AtMost("reserved_within_bound", "P - T <= reserved_ratio x P", P > T ? P - T : 0,
                                static_cast<uint64_t>(t.reserved_ratio * static_cast<double>(P)), 0, T));
    if (s.blocks_online) {
      // Blocks count whole across holes: allow one block besides the slack.
      out.checks.push_back(Near("memory_blocks_equal_present", "B = P", *s.blocks_online, P,
                                slack + static_cast<double>(s.block_size), T));
    }
  } else {
    out.model = "totals";
    if (s.node_total) out.checks.push_back(Near("nodes_equal_meminfo", "N = T", *s.node_total, T, slack, T));
    if (s.hwloc_total)
      out.checks.push_back(Near("hwloc_equals_meminfo", "H = T", *s.hwloc_total, T, slack, T));
  }
  for (const MemoryCheck& c : out.checks) {
    out.agree = out.agree && c.holds;
    out.worst_excess_ratio = std::max(out.worst_excess_ratio, c.excess_ratio);
  }
  return out;
}

nlohmann::json MemoryChecksToJson(const MemoryComparison& c) {
  nlohmann::json out = nlohmann::json::array();
  for (const MemoryCheck& k : c.checks) {
    out.push_back({{"name", k.name},
                   {"relation", k.relation},
                   {"left_bytes", k.left},
                   {"right_bytes", k.right},
                   {"holds", k.holds},
                   {"excess_ratio", k.excess_ratio}});
  }
  return out;
}

}  // namespace resmeter
