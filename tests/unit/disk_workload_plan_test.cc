#include "meters/disk/disk_workload_plan.h"

#include <gtest/gtest.h>

#include "meters/registry/registry.h"

namespace resmeter {
namespace {

// The disk.io defaults from the registry row.
Options DefaultDiskOptions() {
  const MeterInfo* info = FindMeter("disk.io");
  EXPECT_NE(info, nullptr);
  Options o;
  for (const auto& spec : info->options) o.Set(spec.key, spec.default_value);
  return o;
}

DiskTargetShape FileShape(uint64_t size) {
  DiskTargetShape s;
  s.size_bytes = size;
  return s;
}

TEST(disk_workload_plan_test, defaults_give_nine_workloads_well_under_a_minute) {
  auto plan = PlanDiskWorkloads(DefaultDiskOptions(), FileShape(256ull << 20));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::vector<std::string> names;
  for (const auto& w : plan->workloads) names.push_back(w.name);
  EXPECT_EQ(names, (std::vector<std::string>{"seq_read_qd1", "seq_read_qd32", "rand_read_qd1",
                                             "rand_read_qd32", "seq_write_qd1", "seq_write_qd32",
                                             "rand_write_qd1", "rand_write_qd32", "fsync"}));
  EXPECT_LT(plan->PlannedSeconds(), 40.0);
  EXPECT_EQ(plan->workloads[0].block_size_bytes, 1u << 20);
  EXPECT_EQ(plan->workloads[2].block_size_bytes, 4096u);
  EXPECT_EQ(plan->workloads[8].queue_depth, 1);
  EXPECT_EQ(plan->workloads[1].ConditionsJson()["queue_depth"], 32);
  EXPECT_EQ(plan->workloads[1].ConditionsJson()["pattern"], "sequential");
}

TEST(disk_workload_plan_test, read_only_target_skips_writes_and_fsync) {
  DiskTargetShape s = FileShape(1ull << 30);
  s.read_only = true;
  auto plan = PlanDiskWorkloads(DefaultDiskOptions(), s);
  ASSERT_TRUE(plan.ok());
  for (const auto& w : plan->workloads) EXPECT_EQ(w.op, IoOp::kRead) << w.name;
  EXPECT_EQ(plan->workloads.size(), 4u);
  EXPECT_EQ(plan->skipped.size(), 3u);

  Options o = DefaultDiskOptions();
  o.Set("workloads", nlohmann::json::array({"seq_write"}));
  auto none = PlanDiskWorkloads(o, s);
  EXPECT_FALSE(none.ok());
}

TEST(disk_workload_plan_test, deep_queue_of_one_runs_only_qd1) {
  Options o = DefaultDiskOptions();
  o.Set("deep_queue_depth", 1);
  o.Set("workloads", nlohmann::json::array({"rand_read"}));
  auto plan = PlanDiskWorkloads(o, FileShape(1 << 24));
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->workloads.size(), 1u);
  EXPECT_EQ(plan->workloads[0].name, "rand_read_qd1");
}

TEST(disk_workload_plan_test, rejects_bad_values_naming_the_option) {
  Options o = DefaultDiskOptions();
  o.Set("random_block_size_bytes", 6000);
  auto a = PlanDiskWorkloads(o, FileShape(1 << 24));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("random_block_size_bytes = 6000"), std::string::npos);

  o = DefaultDiskOptions();
  auto b = PlanDiskWorkloads(o, FileShape(512 * 1024));  // smaller than a 1 MiB block
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("sequential_block_size_bytes"), std::string::npos);

  o.Set("workloads", nlohmann::json::array({"seq_read", "trim"}));
  auto c = PlanDiskWorkloads(o, FileShape(1 << 24));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("'trim'"), std::string::npos);

  DiskTargetShape dev = FileShape(1 << 24);
  dev.alignment_bytes = 8192;
  o = DefaultDiskOptions();
  auto d = PlanDiskWorkloads(o, dev);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("8192"), std::string::npos);
}

TEST(disk_workload_plan_test, durations_and_warmup_come_from_options) {
  Options o = DefaultDiskOptions();
  o.Set("warmup_seconds", 0.25);
  o.Set("duration_seconds", 1.5);
  o.Set("workloads", nlohmann::json::array({"seq_read", "fsync"}));
  auto plan = PlanDiskWorkloads(o, FileShape(1 << 26));
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->workloads.size(), 3u);
  EXPECT_DOUBLE_EQ(plan->PlannedSeconds(), 3 * 1.75);
  EXPECT_EQ(plan->workloads[2].name, "fsync");
  EXPECT_EQ(plan->workloads[2].block_size_bytes, 4096u);
}

TEST(disk_workload_plan_test, large_working_set_spans_the_whole_target_and_sizes_the_file) {
  Options o = DefaultDiskOptions();
  EXPECT_EQ(ScratchFileBytesFor(o), 256ull << 20);  // not wanted: file_size_bytes
  o.Set("workloads", nlohmann::json::array({"rand_read", "rand_read_large"}));
  o.Set("deep_queue_depth", 4);
  EXPECT_EQ(ScratchFileBytesFor(o), 4ull << 30);  // the large_working_set_bytes default
  o.Set("large_working_set_bytes", 1 << 20);
  EXPECT_EQ(ScratchFileBytesFor(o), 256ull << 20);  // never below file_size_bytes

  DiskTargetShape file = FileShape(4ull << 30);
  file.regular_span_bytes = 256ull << 20;
  auto plan = PlanDiskWorkloads(o, file);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::vector<std::string> names;
  for (const auto& w : plan->workloads) names.push_back(w.name);
  EXPECT_EQ(names, (std::vector<std::string>{"rand_read_qd1", "rand_read_qd4", "rand_read_large_qd1",
                                             "rand_read_large_qd4"}));
  EXPECT_EQ(plan->workloads[0].span_bytes, 256ull << 20);
  EXPECT_FALSE(plan->workloads[0].large_working_set);
  EXPECT_EQ(plan->workloads[2].span_bytes, 4ull << 30);
  EXPECT_TRUE(plan->workloads[2].large_working_set);
  EXPECT_EQ(plan->workloads[2].op, IoOp::kRead);
  EXPECT_EQ(plan->workloads[2].block_size_bytes, 4096u);
  EXPECT_EQ(plan->workloads[2].ConditionsJson()["large_working_set"], true);
  EXPECT_EQ(plan->workloads[2].ConditionsJson()["span_bytes"], 4ull << 30);

  DiskTargetShape dev = FileShape(100ull << 30);  // a block device: everything spans it
  dev.read_only = true;
  plan = PlanDiskWorkloads(o, dev);
  ASSERT_TRUE(plan.ok());
  for (const auto& w : plan->workloads) EXPECT_EQ(w.span_bytes, 100ull << 30) << w.name;
}

}  // namespace
}  // namespace resmeter
