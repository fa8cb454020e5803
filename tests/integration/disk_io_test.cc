// disk.io on a small scratch file in a temporary directory: results are
// internally consistent and nothing is left behind; every user-caused
// failure is one clear line.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "agent/claim_tables.h"
#include "disk_io_test_util.h"

namespace resmeter {
namespace {

using disk_test::Entries;
using disk_test::RunDiskIo;
using disk_test::SmallDiskOptions;
using disk_test::TempDir;

// Checks bytes/s = IOPS x block size and min <= p50 <= p90 <= p99 <= p999 <= max.
void ExpectConsistent(const MeterResult& r) {
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(ExplainClaims("disk.io", r.claims), "");  // only declared claims (#18)
  const auto& workloads = r.conditions["workloads"];
  ASSERT_FALSE(workloads.empty());
  for (const auto& [name, cond] : workloads.items()) {
    SCOPED_TRACE(name);
    const auto& c = r.claims;
    const double bs = cond["block_size_bytes"].get<double>();
    const double iops = c[name + "_ios_per_second"].get<double>();
    const double bps = c[name + "_bytes_per_second"].get<double>();
    EXPECT_GT(c[name + "_ios"].get<uint64_t>(), 0u);
    EXPECT_NEAR(bps, iops * bs, 1e-6 * bps);
    double prev = c[name + "_latency_min_seconds"].get<double>();
    EXPECT_GT(prev, 0);
    for (const char* k : {"p50", "p90", "p99", "p999", "max"}) {
      double v = c[name + "_latency_" + k + "_seconds"].get<double>();
      EXPECT_LE(prev, v) << k;
      prev = v;
    }
    // Little's law, loosely: at queue depth q, IOPS <= q / min latency.
    const double qd = cond["queue_depth"].get<double>();
    EXPECT_LE(iops, qd / c[name + "_latency_min_seconds"].get<double>() * 1.05);
  }
}

TEST(disk_io_test, small_file_run_is_consistent_and_leaves_nothing) {
  TempDir dir;
  MeterResult r = RunDiskIo(SmallDiskOptions(dir.path()));
  ExpectConsistent(r);
  EXPECT_EQ(r.claims.size() % 11, 0u);  // per workload: 10 numbers and the histogram
  EXPECT_EQ(r.conditions["workloads"].size(), 9u);
  EXPECT_EQ(r.conditions["direct"], true);
  EXPECT_EQ(r.conditions["target"]["kind"], "file");
  EXPECT_EQ(r.conditions["file_size_bytes"], 16 << 20);
  EXPECT_TRUE(r.conditions["engine"] == "io_uring" || r.conditions.contains("engine_fallback_reason"));
  EXPECT_TRUE(Entries(dir.path()).empty());
}

// rand_read_large in file mode: the scratch file grows to
// large_working_set_bytes, only rand_read_large spans all of it, and it is removed.
TEST(disk_io_test, large_working_set_file_is_sized_spanned_and_removed) {
  TempDir dir;
  Options o = SmallDiskOptions(dir.path());
  o.Set("workloads", nlohmann::json::array({"rand_read", "rand_read_large"}));
  o.Set("large_working_set_bytes", 32 << 20);
  o.Set("deep_queue_depth", 1);
  MeterResult r = RunDiskIo(o);
  ExpectConsistent(r);
  EXPECT_EQ(r.conditions["target"]["size_bytes"], 32 << 20);
  EXPECT_EQ(r.conditions["workloads"]["rand_read_qd1"]["span_bytes"], 16 << 20);
  EXPECT_EQ(r.conditions["workloads"]["rand_read_large_qd1"]["span_bytes"], 32 << 20);
  EXPECT_TRUE(r.claims["rand_read_large_qd1_latency_bimodal"].is_boolean());
  EXPECT_TRUE(r.conditions["workloads"]["rand_read_large_qd1"].contains("latency_modes"));
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(disk_io_test, psync_engine_is_consistent_too) {
  TempDir dir;
  Options o = SmallDiskOptions(dir.path());
  o.Set("engine", "psync");
  o.Set("workloads", nlohmann::json::array({"rand_read", "seq_write"}));
  MeterResult r = RunDiskIo(o);
  ExpectConsistent(r);
  EXPECT_EQ(r.conditions["engine"], "psync");
  EXPECT_TRUE(Entries(dir.path()).empty());
}

// Checks the result failed with one line containing `want`.
void ExpectOneLineFailure(const MeterResult& r, const std::string& want) {
  EXPECT_EQ(r.status, MeterStatus::kFailed);
  EXPECT_NE(r.reason.find(want), std::string::npos) << r.reason;
  EXPECT_EQ(r.reason.find('\n'), std::string::npos) << r.reason;
  EXPECT_LT(r.reason.size(), 300u) << r.reason;
  std::printf("  reason: %s\n", r.reason.c_str());
}

TEST(disk_io_test, disk_full_is_one_clear_line) {
  if (!disk_test::IsRoot()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  TempDir dir;
  const std::string mnt = dir.Sub("small");
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=8m"), 0);
  MeterResult r = RunDiskIo(SmallDiskOptions(mnt));  // 16 MiB into 8 MiB
  ExpectOneLineFailure(r, "disk full: " + mnt);
  EXPECT_TRUE(Entries(mnt).empty());
  ::umount(mnt.c_str());
}

TEST(disk_io_test, unwritable_directory_is_one_clear_line) {
  if (!disk_test::IsRoot()) GTEST_SKIP() << "needs root to mount a read-only tmpfs";
  TempDir dir;
  const std::string mnt = dir.Sub("ro");
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", MS_RDONLY, "size=64m"), 0);
  ExpectOneLineFailure(RunDiskIo(SmallDiskOptions(mnt)), mnt + " is not writable: Read-only file system");
  ::umount(mnt.c_str());

  // And as an unprivileged user on a root-owned 0755 directory.
  const std::string locked = dir.Sub("locked");
  ASSERT_EQ(::mkdir(locked.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  int status = disk_test::InChild([&] {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 3;
    MeterResult r = RunDiskIo(SmallDiskOptions(locked));
    bool ok = r.status == MeterStatus::kFailed &&
              r.reason == "disk.io directory " + locked + " is not writable: Permission denied";
    if (!ok) std::fprintf(stderr, "child reason: %s\n", r.reason.c_str());
    return ok ? 0 : 1;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(Entries(locked).empty());
}

TEST(disk_io_test, symlinked_directory_is_refused_in_one_line) {
  TempDir dir;
  const std::string real = dir.Sub("real"), link = dir.Sub("link");
  ASSERT_EQ(::mkdir(real.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  ExpectOneLineFailure(RunDiskIo(SmallDiskOptions(link)), link + " goes through a symlink to " + real);
  ExpectOneLineFailure(RunDiskIo(SmallDiskOptions(link + "/")), "goes through a symlink");
  EXPECT_TRUE(Entries(real).empty());
}

TEST(disk_io_test, missing_directory_and_bad_block_size_are_one_line) {
  TempDir dir;
  ExpectOneLineFailure(RunDiskIo(SmallDiskOptions(dir.Sub("nope"))), dir.Sub("nope") + " does not exist");
  Options o = SmallDiskOptions(dir.path());
  o.Set("random_block_size_bytes", 5000);
  ExpectOneLineFailure(RunDiskIo(o), "random_block_size_bytes = 5000");
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(disk_io_test, block_device_target_refuses_a_regular_file) {
  TempDir dir;
  const std::string f = dir.Sub("plain");
  ASSERT_TRUE(disk_test::Sh("head -c 1048576 /dev/zero > " + f));
  Options o = SmallDiskOptions(dir.path());
  o.Set("target", "block_device");
  o.Set("block_device", f);
  ExpectOneLineFailure(RunDiskIo(o), f + " is not a block device");
}

// Makes io_uring_setup fail with ENOSYS in this process (seccomp filter).
bool BlockIoUring() {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

TEST(disk_io_test, falls_back_to_psync_when_io_uring_is_unavailable) {
  TempDir dir;
  int status = disk_test::InChild([&] {
    if (!BlockIoUring()) return 3;
    Options o = SmallDiskOptions(dir.path());
    o.Set("workloads", nlohmann::json::array({"rand_read"}));
    MeterResult r = RunDiskIo(o);
    std::string reason = r.conditions.value("engine_fallback_reason", "");
    std::fprintf(stderr, "  engine %s, fallback reason: %s\n", r.conditions.value("engine", "?").c_str(),
                 reason.c_str());
    bool ok = r.status == MeterStatus::kOk && r.conditions["engine"] == "psync" &&
              reason.find("Function not implemented") != std::string::npos;
    o.Set("engine", "io_uring");  // asked for explicitly: a clear failure, not a silent fallback
    MeterResult forced = RunDiskIo(o);
    ok = ok && forced.status == MeterStatus::kFailed &&
         forced.reason.find("engine = io_uring") != std::string::npos;
    return ok ? 0 : 1;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(Entries(dir.path()).empty());
}

}  // namespace
}  // namespace resmeter
