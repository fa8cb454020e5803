// Memory accounting: what each of the kernel's memory sources counts, and a
// like-with-like comparison of them, so that memory.capacity reports a
// disagreement only when the figures really cannot all be true.
//
// The sources do not count the same thing:
//  - /proc/meminfo MemTotal (T): usable RAM = present pages minus what the
//    kernel reserved at boot. With deferred struct-page initialisation in
//    lazy mode (`deferred_init=lazy`, seen on this project's Firecracker
//    VMs) it also counts pages the kernel has not handed to its allocator
//    yet; they are initialised on demand (deferred_grow_zone).
//  - /sys/devices/system/node/nodeN/meminfo MemTotal (N), and hwloc, which
//    reads those files (H): the zones' managed pages, i.e. only pages already
//    handed to the allocator. N < T by the not-yet-initialised pages; on the
//    build VM N was 4.8 GiB against T 23.5 GiB right after boot, and grows
//    as memory is touched.
//  - /proc/zoneinfo: per zone `present` (P, physical pages in the zone) and
//    `managed` (M, pages the allocator owns; sum = N).
//  - /sys/devices/system/memory: online memory blocks x block_size_bytes
//    (B), the hot-plug view; blocks spanning firmware holes count whole.
// So the like-with-like relations are N = M = H (one counter read three
// ways, up to growth between reads), M <= T <= P (usable memory lies
// between what is initialised and what is present), P - T small (boot
// reservations; a large gap is memory present but not usable, e.g. taken
// by a balloon), and B = P up to holes. A host that inflates MemTotal beyond
// the present pages, or presents nodes that do not add up, still fails.
// Without /proc/zoneinfo the only comparison is the old one, N = T.
//
// Threading: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace resmeter {

// Sums of /proc/zoneinfo's per-zone page counts over all nodes and zones.
struct ZonePages {
  uint64_t present = 0;
  uint64_t managed = 0;
  uint64_t zones = 0;  // zones listed
};
// Parses /proc/zoneinfo. Corruption when it lists no zone or a zone lacks
// its present/managed line, or a count is not a number.
Result<ZonePages> ParseZoneinfo(std::string_view text);

// The figures each source gave, in bytes (absent: source unreadable).
struct MemorySources {
  uint64_t meminfo_total = 0;             // T
  std::optional<uint64_t> node_total;     // N
  std::optional<uint64_t> hwloc_total;    // H (only when the node files exist)
  std::optional<uint64_t> zone_present;   // P
  std::optional<uint64_t> zone_managed;   // M
  std::optional<uint64_t> blocks_online;  // B
  uint64_t block_size = 0;                // memory block size (0: unknown)
};

struct MemoryTolerances {
  double mismatch_ratio = 0.05;  // of T: slack for reads at different instants and rounding
  double reserved_ratio = 0.10;  // of P: the most present memory boot reservations may take
};

// One relation between two figures.
struct MemoryCheck {
  std::string name;      // e.g. "meminfo_not_above_present"
  std::string relation;  // human form, e.g. "T <= P"
  uint64_t left = 0, right = 0;
  double excess_ratio = 0;  // how far it is violated, as a fraction of T (0 when it holds)
  bool holds = true;
};

struct MemoryComparison {
  std::vector<MemoryCheck> checks;
  bool agree = true;  // every check holds
  double worst_excess_ratio = 0;
  std::string model;  // "zoneinfo" (like with like) or "totals" (no zoneinfo: N = T)
};

// Applies the relations of the header comment to whatever sources exist.
MemoryComparison CompareMemorySources(const MemorySources& s, const MemoryTolerances& t);

// {name, relation, left_bytes, right_bytes, holds, excess_ratio} per check.
nlohmann::json MemoryChecksToJson(const MemoryComparison& c);

}  // namespace resmeter
