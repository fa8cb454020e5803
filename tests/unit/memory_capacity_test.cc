#include "meters/memory/memory_capacity.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "meters/registry/registry.h"

namespace resmeter {
namespace {

const std::string kMachines = std::string(RESMETER_FIXTURES_DIR) + "/machines";
constexpr uint64_t kKiB = 1024;

// Runs memory.capacity on a fixture machine.
MeterResult MeasureMachine(const std::string& name, double tolerance = 0.05) {
  MeterContext ctx;
  ctx.env = DefaultEnv();
  ctx.proc_root = kMachines + "/" + name + "/proc";
  ctx.sys_root = kMachines + "/" + name + "/sys";
  ctx.options.Set("mismatch_tolerance_ratio", tolerance);
  return MemoryCapacityMeter().Measure(ctx);
}

TEST(memory_capacity_test, parses_proc_and_node_meminfo) {
  auto proc = ParseMeminfo("MemTotal:       131900892 kB\nHugePages_Total:    1024\n");
  ASSERT_TRUE(proc.ok());
  EXPECT_EQ(proc->at("MemTotal"), 131900892 * kKiB);
  EXPECT_EQ(proc->at("HugePages_Total"), 1024u);
  auto node = ParseMeminfo("Node 1 MemTotal:        66058112 kB\nNode 1 HugePages_Free:      500\n");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->at("MemTotal"), 66058112 * kKiB);
  EXPECT_EQ(node->at("HugePages_Free"), 500u);
  EXPECT_FALSE(ParseMeminfo("MemTotal 12 kB\n").ok());
  EXPECT_FALSE(ParseMeminfo("MemTotal: twelve kB\n").ok());
  EXPECT_FALSE(ParseMeminfo("MemTotal: 12 MB\n").ok());
}

TEST(memory_capacity_test, relative_difference) {
  EXPECT_DOUBLE_EQ(MaxRelativeDifference(100, {}), 0.0);
  EXPECT_DOUBLE_EQ(MaxRelativeDifference(100, {95, 110}), 0.1);
  EXPECT_DOUBLE_EQ(MaxRelativeDifference(0, {0}), 0.0);
}

TEST(memory_capacity_test, two_socket_machine_agrees_across_sources) {
  MeterResult r = MeasureMachine("numa_2socket");
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  const uint64_t total = 131900892 * kKiB;
  EXPECT_EQ(r.claims["mem_total_bytes"], total);
  EXPECT_EQ(r.claims["mem_available_bytes"], 125000000 * kKiB);
  EXPECT_EQ(r.claims["hugepages"], 1024);
  EXPECT_EQ(r.claims["hugepages_free"], 1000);
  EXPECT_EQ(r.claims["hugepage_size_bytes"], 2048 * kKiB);
  EXPECT_EQ(r.claims["hugetlb_bytes"], 6291456 * kKiB);
  ASSERT_EQ(r.claims["hugepage_pools"].size(), 2u);
  EXPECT_EQ(r.claims["hugepage_pools"][1]["page_size_bytes"], 1048576 * kKiB);
  EXPECT_EQ(r.claims["hugepage_pools"][1]["total"], 4);
  EXPECT_EQ(r.claims["numa_nodes"], 2);
  EXPECT_EQ(r.claims["numa"][0]["mem_total_bytes"], 65842780 * kKiB);
  EXPECT_EQ(r.claims["numa"][1]["mem_total_bytes"], 66058112 * kKiB);
  EXPECT_EQ(r.claims["numa"][1]["hugepages"], 512);
  EXPECT_EQ(r.claims["numa_total_bytes"], total);
  EXPECT_EQ(r.claims["hwloc_numa_nodes"], 2);
  EXPECT_EQ(r.claims["hwloc_numa_total_bytes"], total);
  EXPECT_EQ(r.claims["totals_agree"], true);
  EXPECT_DOUBLE_EQ(r.claims["total_max_difference_ratio"].get<double>(), 0.0);
  EXPECT_TRUE(r.findings.empty());
}

TEST(memory_capacity_test, host_claiming_more_memory_than_the_nodes_hold_is_a_finding) {
  MeterResult r = MeasureMachine("numa_2socket_inconsistent");
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["mem_total_bytes"], uint64_t{192} << 30);
  EXPECT_EQ(r.claims["totals_agree"], false);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].code, "memory_total_mismatch");
  // MemTotal exceeds the zones' present pages (133879400 kB) by more than the 5 % slack.
  const double expected = (201326592.0 - 133879400.0) / 201326592.0 - 0.05;  // kB
  EXPECT_NEAR(r.findings[0].details["max_difference_ratio"].get<double>(), expected, 1e-9);
  EXPECT_EQ(r.findings[0].details["sysfs_numa_bytes"], 131900892 * kKiB);
}

TEST(memory_capacity_test, real_vm_with_lazily_initialised_memory_agrees_like_with_like) {
  // Copied at one instant from the build VM (Firecracker, deferred_init=lazy):
  // /proc/meminfo MemTotal 24683584 kB counts pages the kernel has not yet
  // initialised; node0 MemTotal 6121208 kB is the zones' managed pages only;
  // the zones hold 6291358 present pages (24 GiB) in 192 online 128 MiB blocks.
  MeterResult r = MeasureMachine("vm_2cpu");
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["mem_total_bytes"], 24683584 * kKiB);
  EXPECT_EQ(r.claims["numa_total_bytes"], 6121208 * kKiB);
  EXPECT_EQ(r.claims["zone_managed_bytes"], 6121208 * kKiB);
  EXPECT_EQ(r.claims["zone_present_bytes"], uint64_t{6291358} * 4096);
  EXPECT_EQ(r.claims["memory_blocks_online_bytes"], uint64_t{192} << 27);
  EXPECT_EQ(r.claims["hugepages"], 0);
  EXPECT_EQ(r.conditions["kernel_deferred_init"], "lazy");
  EXPECT_EQ(r.claims["totals_agree"], true) << r.claims["memory_checks"].dump(1);
  EXPECT_TRUE(r.findings.empty());
}

TEST(memory_capacity_test, host_claiming_more_than_present_is_a_finding_even_with_zoneinfo) {
  // numa_2socket_inconsistent: MemTotal 192 GiB, zones present about 128 GiB.
  MeterResult r = MeasureMachine("numa_2socket_inconsistent");
  ASSERT_EQ(r.findings.size(), 1u);
  const auto& failed = r.findings[0].details["failed_relations"];
  EXPECT_NE(std::find(failed.begin(), failed.end(), "T <= P"), failed.end()) << failed.dump();
}

TEST(memory_capacity_test, no_numa_sysfs_is_a_condition_not_a_comparison) {
  MeterResult r = MeasureMachine("no_numa");
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["mem_total_bytes"], 24683656 * kKiB);
  EXPECT_FALSE(r.claims.contains("numa"));
  EXPECT_FALSE(r.claims.contains("totals_agree"));
  EXPECT_TRUE(r.conditions.contains("sysfs_numa_unavailable"));
  EXPECT_TRUE(r.conditions.contains("hwloc_not_independent"));
  EXPECT_TRUE(r.findings.empty());
}

TEST(memory_capacity_test, missing_meminfo_is_unavailable) {
  MeterResult r = MeasureMachine("absent");
  EXPECT_EQ(r.status, MeterStatus::kUnavailable);
  EXPECT_NE(r.reason.find("meminfo"), std::string::npos);
}

TEST(memory_capacity_test, registry_row_declares_tolerance) {
  const MeterInfo* info = FindMeter("memory.capacity");
  ASSERT_NE(info, nullptr);
  ASSERT_EQ(info->options.size(), 2u);
  EXPECT_EQ(info->options[0].key, "mismatch_tolerance_ratio");
  EXPECT_DOUBLE_EQ(info->options[0].default_value.get<double>(), 0.05);
  EXPECT_EQ(info->options[1].key, "reserved_tolerance_ratio");
  EXPECT_DOUBLE_EQ(info->options[1].default_value.get<double>(), 0.10);
}

}  // namespace
}  // namespace resmeter
