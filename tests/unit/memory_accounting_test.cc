#include "meters/memory/memory_accounting.h"

#include <gtest/gtest.h>

namespace resmeter {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

// The names of the checks that fail.
std::vector<std::string> Failed(const MemoryComparison& c) {
  std::vector<std::string> out;
  for (const auto& k : c.checks) {
    if (!k.holds) out.push_back(k.name);
  }
  return out;
}

// The build VM right after boot: 24 GiB present, MemTotal 23.5 GiB, only
// 4.8 GiB initialised so far (the node file and hwloc count those).
MemorySources LazyInitVm() {
  MemorySources s;
  s.meminfo_total = 24683584ull * 1024;
  s.zone_present = 6291358ull * 4096;
  s.zone_managed = 5072632ull * 1024;
  s.node_total = 5072632ull * 1024;
  s.hwloc_total = 5072632ull * 1024;
  s.blocks_online = 192 * (kGiB / 8);
  s.block_size = kGiB / 8;
  return s;
}

TEST(memory_accounting_test, parses_zoneinfo_sums_over_nodes_and_zones) {
  const char* text =
      "Node 0, zone      DMA\n  pages free     3840\n        spanned  4095\n        present  3998\n"
      "        managed  3840\n  pagesets\n    cpu: 0\n"
      "Node 0, zone   Normal\n  pages free     1\n        present  5505024\n        managed  491520\n"
      "Node 1, zone  Movable\n  pages free     0\n        present  0\n        managed  0\n";
  Result<ZonePages> z = ParseZoneinfo(text);
  ASSERT_TRUE(z.ok()) << z.status().message();
  EXPECT_EQ(z->zones, 3u);
  EXPECT_EQ(z->present, 3998u + 5505024u);
  EXPECT_EQ(z->managed, 3840u + 491520u);
  EXPECT_FALSE(ParseZoneinfo("").ok());
  EXPECT_FALSE(ParseZoneinfo("Node 0, zone Normal\n  present 12\n").ok());  // no managed
  EXPECT_FALSE(ParseZoneinfo("Node 0, zone Normal\n  present x\n  managed 1\n").ok());
}

TEST(memory_accounting_test, lazily_initialised_memory_is_not_a_mismatch) {
  MemoryComparison c = CompareMemorySources(LazyInitVm(), {});
  EXPECT_EQ(c.model, "zoneinfo");
  EXPECT_TRUE(c.agree) << MemoryChecksToJson(c).dump(1);
  EXPECT_EQ(c.checks.size(), 6u);
}

TEST(memory_accounting_test, the_old_comparison_would_have_flagged_it) {
  MemorySources s = LazyInitVm();
  s.zone_present.reset();
  s.zone_managed.reset();
  MemoryComparison c = CompareMemorySources(s, {});
  EXPECT_EQ(c.model, "totals");
  EXPECT_FALSE(c.agree);
  EXPECT_EQ(Failed(c), (std::vector<std::string>{"nodes_equal_meminfo", "hwloc_equals_meminfo"}));
}

TEST(memory_accounting_test, meminfo_above_present_pages_is_a_mismatch) {
  MemorySources s = LazyInitVm();
  s.meminfo_total = 32 * kGiB;  // a host inflating MemTotal beyond the zones
  EXPECT_EQ(Failed(CompareMemorySources(s, {})), std::vector<std::string>{"meminfo_not_above_present"});
}

TEST(memory_accounting_test, present_memory_not_usable_is_a_mismatch) {
  MemorySources s = LazyInitVm();
  s.meminfo_total = 12 * kGiB;  // half the present memory taken away (a balloon, say)
  EXPECT_EQ(Failed(CompareMemorySources(s, {})), std::vector<std::string>{"reserved_within_bound"});
  MemoryTolerances loose;
  loose.reserved_ratio = 0.6;
  EXPECT_TRUE(CompareMemorySources(s, loose).agree);
}

TEST(memory_accounting_test, nodes_that_do_not_add_up_to_the_zones_are_a_mismatch) {
  MemorySources s = LazyInitVm();
  s.node_total = 12 * kGiB;  // node files claiming more than the zones manage
  s.hwloc_total = 12 * kGiB;
  EXPECT_EQ(Failed(CompareMemorySources(s, {})), std::vector<std::string>{"nodes_equal_zone_managed"});
}

TEST(memory_accounting_test, hwloc_disagreeing_with_the_node_files_is_a_mismatch) {
  MemorySources s = LazyInitVm();
  s.hwloc_total = 20 * kGiB;
  EXPECT_EQ(Failed(CompareMemorySources(s, {})), std::vector<std::string>{"hwloc_equals_nodes"});
}

TEST(memory_accounting_test, offline_or_missing_memory_blocks_are_a_mismatch) {
  MemorySources s = LazyInitVm();
  s.blocks_online = 8 * kGiB;
  EXPECT_EQ(Failed(CompareMemorySources(s, {})), std::vector<std::string>{"memory_blocks_equal_present"});
  s.blocks_online = 24 * kGiB + kGiB / 8;  // one block of holes is tolerated
  EXPECT_TRUE(CompareMemorySources(s, {}).agree);
}

}  // namespace
}  // namespace resmeter
