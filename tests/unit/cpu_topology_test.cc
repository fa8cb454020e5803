#include "meters/cpu/cpu_topology.h"

#include <gtest/gtest.h>

#include "meters/cpu/hwloc_snapshot.h"
#include "meters/registry/registry.h"

namespace resmeter {
namespace {

const std::string kMachines = std::string(RESMETER_FIXTURES_DIR) + "/machines";

// Runs cpu.topology on a fixture machine (or on separate proc/sys roots).
MeterResult Measure(const std::string& proc_root, const std::string& sys_root) {
  MeterContext ctx;
  ctx.env = DefaultEnv();
  ctx.proc_root = proc_root;
  ctx.sys_root = sys_root;
  return CpuTopologyMeter().Measure(ctx);
}
MeterResult MeasureMachine(const std::string& name) {
  return Measure(kMachines + "/" + name + "/proc", kMachines + "/" + name + "/sys");
}

// The cache claim with this level and type, or null json.
nlohmann::json Cache(const MeterResult& r, int level, const std::string& type) {
  for (const auto& c : r.claims["caches"]) {
    if (c["level"] == level && c["type"] == type) return c;
  }
  return nullptr;
}

TEST(cpu_topology_test, parses_cpu_lists) {
  EXPECT_EQ(*ParseCpuList("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(*ParseCpuList("0"), (std::vector<int>{0}));
  EXPECT_TRUE(ParseCpuList("\n")->empty());
  EXPECT_FALSE(ParseCpuList("3-1").ok());
  EXPECT_FALSE(ParseCpuList("0,,1").ok());
  EXPECT_FALSE(ParseCpuList("a-b").ok());
}

TEST(cpu_topology_test, counts_cpuinfo_processors) {
  EXPECT_EQ(CountCpuinfoProcessors("processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\n"), 2);
  EXPECT_EQ(CountCpuinfoProcessors("Processor\t: ARMv7\n"), 0);  // old ARM model line, not an entry
  EXPECT_EQ(CountCpuinfoProcessors(""), 0);
}

TEST(cpu_topology_test, resolves_hwloc_root_from_sibling_roots) {
  EXPECT_EQ(ResolveHwlocRoot("/proc", "/sys").fsroot, "/");
  HwlocRoot sib = ResolveHwlocRoot("/x/m/proc", "/x/m/sys/");
  EXPECT_EQ(sib.fsroot, "/x/m");
  EXPECT_TRUE(sib.proc_root_honoured);
  EXPECT_TRUE(sib.note.empty());
  HwlocRoot apart = ResolveHwlocRoot("/a/proc", "/b/sys");
  EXPECT_EQ(apart.fsroot, "/b");
  EXPECT_FALSE(apart.proc_root_honoured);
  EXPECT_NE(apart.note.find("/b/proc"), std::string::npos);
}

TEST(cpu_topology_test, two_socket_numa_machine) {
  MeterResult r = MeasureMachine("numa_2socket");
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["packages"], 2);
  EXPECT_EQ(r.claims["cores"], 8);
  EXPECT_EQ(r.claims["threads"], 16);
  EXPECT_EQ(r.claims["threads_per_core"], 2);
  EXPECT_EQ(r.claims["numa_nodes"], 2);
  EXPECT_EQ(r.claims["numa"][1]["node"], 1);
  EXPECT_EQ(r.claims["numa"][1]["threads"], 8);
  EXPECT_EQ(r.claims["numa"][1]["memory_bytes"], uint64_t{66058112} * 1024);
  EXPECT_EQ(r.claims["cpu_model"], "Synthetic 2-socket fixture CPU @ 2.00GHz");

  nlohmann::json l1d = Cache(r, 1, "data");
  EXPECT_EQ(l1d["size_bytes"], 48 * 1024);
  EXPECT_EQ(l1d["instances"], 8);
  EXPECT_EQ(l1d["shared_by_pus"], 2);
  EXPECT_EQ(l1d["ways"], 12);
  EXPECT_EQ(l1d["line_size_bytes"], 64);
  EXPECT_EQ(Cache(r, 1, "instruction")["size_bytes"], 32 * 1024);
  EXPECT_EQ(Cache(r, 2, "unified")["size_bytes"], 2048 * 1024);
  nlohmann::json l3 = Cache(r, 3, "unified");
  EXPECT_EQ(l3["size_bytes"], 30720 * 1024);
  EXPECT_EQ(l3["instances"], 2);
  EXPECT_EQ(l3["shared_by_pus"], 8);
  EXPECT_EQ(r.claims["caches"].size(), 4u);

  EXPECT_EQ(r.claims["online_cpus"], 16);
  EXPECT_EQ(r.claims["cpuinfo_processors"], 16);
  EXPECT_EQ(r.claims["cpu_counts_agree"], true);
  EXPECT_TRUE(r.findings.empty());
  EXPECT_EQ(r.conditions["hwloc_fsroot"], kMachines + "/numa_2socket");
  EXPECT_EQ(r.conditions["proc_root_honoured_by_hwloc"], true);
}

TEST(cpu_topology_test, small_vm_copied_from_the_build_machine) {
  MeterResult r = MeasureMachine("vm_2cpu");
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["packages"], 1);
  EXPECT_EQ(r.claims["cores"], 2);
  EXPECT_EQ(r.claims["threads"], 2);
  EXPECT_EQ(r.claims["numa_nodes"], 1);
  EXPECT_EQ(r.claims["cpu_model"], "AMD EPYC");
  EXPECT_EQ(Cache(r, 1, "data")["size_bytes"], 32 * 1024);
  EXPECT_EQ(Cache(r, 1, "data")["shared_by_pus"], 1);
  EXPECT_EQ(Cache(r, 1, "instruction")["size_bytes"], 32 * 1024);
  EXPECT_EQ(Cache(r, 2, "unified")["size_bytes"], 512 * 1024);
  nlohmann::json l3 = Cache(r, 3, "unified");
  EXPECT_EQ(l3["size_bytes"], 32768 * 1024);
  EXPECT_EQ(l3["instances"], 1);
  EXPECT_EQ(l3["shared_by_pus"], 2);
  EXPECT_EQ(r.claims["cpu_counts_agree"], true);
  EXPECT_TRUE(r.findings.empty());
}

TEST(cpu_topology_test, cpuinfo_disagreeing_with_sysfs_is_a_finding) {
  MeterResult r = MeasureMachine("numa_2socket_inconsistent");
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["cpu_counts_agree"], false);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].code, "cpu_count_mismatch");
  EXPECT_EQ(r.findings[0].details["hwloc_threads"], 16);
  EXPECT_EQ(r.findings[0].details["sysfs_online_cpus"], 16);
  EXPECT_EQ(r.findings[0].details["cpuinfo_processors"], 12);
}

TEST(cpu_topology_test, roots_that_are_not_siblings_are_a_condition) {
  // hwloc reads numa_2socket (the sys root's parent); the cross-check reads the other proc.
  MeterResult r = Measure(kMachines + "/numa_2socket_inconsistent/proc", kMachines + "/numa_2socket/sys");
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.conditions["proc_root_honoured_by_hwloc"], false);
  EXPECT_TRUE(r.conditions.contains("hwloc_root_note"));
  EXPECT_EQ(r.claims["cpuinfo_processors"], 12);
  EXPECT_EQ(r.claims["threads"], 16);
}

TEST(cpu_topology_test, sysfs_without_per_cpu_topology_reports_no_packages) {
  MeterResult r = MeasureMachine("no_numa");
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_FALSE(r.claims.contains("packages"));
  EXPECT_FALSE(r.claims.contains("cores"));
  EXPECT_TRUE(r.conditions.contains("topology_incomplete"));
  EXPECT_EQ(r.claims["threads"], 2);  // from the online list
}

TEST(cpu_topology_test, missing_sysfs_is_unavailable) {
  MeterResult r = Measure(kMachines + "/absent/proc", kMachines + "/absent/sys");
  EXPECT_EQ(r.status, MeterStatus::kUnavailable);
  EXPECT_NE(r.reason.find("devices/system/cpu"), std::string::npos);
}

TEST(cpu_topology_test, registry_row_exists) {
  const MeterInfo* info = FindMeter("cpu.topology");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->kind, MeterKind::kLight);
  EXPECT_TRUE(info->enabled_by_default);
}

}  // namespace
}  // namespace resmeter
