// Under a cgroup I/O throttle on a loop device, disk.io's sequential read
// bandwidth matches the throttle within 10 %. Root only: it creates a loop
// device and a cgroup (v1 blkio.throttle.read_bps_device, or v2 io.max).
//
// Two runs: psync with 1 MiB blocks, and io_uring with 256 KiB blocks. Why
// not io_uring with 1 MiB: on the 6.18 kernel here, blk-throttle v1 charges a
// 1 MiB io_uring read on a loop device twice (fio 3.33 with
// --ioengine=io_uring --bs=1M gets exactly half the limit as well, psync gets
// the limit); that is the kernel's accounting, not the meter's. The check
// uses queue depth 4, so I/Os always wait in the throttle: at queue depth 1
// on this loaded VM, vCPU wake-up delays of several ms per I/O (seen at
// 128 I/Os per second) made the result depend on load, not on the throttle.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cmath>

#include "disk_io_test_util.h"
#include "support/cgroup_files.h"

namespace resmeter {
namespace {

using disk_test::TempDir;
using disk_test::ThrottledCgroup;

constexpr uint64_t kLimitBps = 32ull << 20;  // 32 MiB/s: far below the loop device's unthrottled rate

TEST(disk_io_throttle_test, read_bandwidth_matches_a_cgroup_throttle_on_a_loop_device) {
  if (!disk_test::IsRoot()) GTEST_SKIP() << "needs root for a loop device and a cgroup throttle";
  TempDir dir;
  const std::string backing = dir.Sub("backing.img");
  ASSERT_TRUE(disk_test::Sh("fallocate -l 256M " + backing));
  disk_test::LoopDevice dev;
  if (std::string why = dev.Attach(backing, "", dir.Sub("loopdev")); !why.empty()) GTEST_SKIP() << why;
  const std::string loop = dev.path();
  const std::string majmin = dev.majmin();

  ThrottledCgroup cg;
  if (std::string why = cg.Create(majmin, ThrottledCgroup::kReadBps, kLimitBps); !why.empty())
    GTEST_SKIP() << why;

  for (const auto& [engine, block] :
       {std::pair<std::string, int>{"psync", 1 << 20}, {"io_uring", 256 << 10}}) {
    SCOPED_TRACE(engine);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    int status = disk_test::InChild([&] {
      ::close(fds[0]);
      if (!cg.Join()) return 3;
      Options o = disk_test::SmallDiskOptions(dir.path());
      o.Set("target", "block_device");
      o.Set("block_device", loop);
      o.Set("engine", engine);
      o.Set("workloads", nlohmann::json::array({"seq_read"}));
      o.Set("sequential_block_size_bytes", block);
      o.Set("deep_queue_depth", 4);    // runs qd 1 and qd 4; qd 4 is checked (see above)
      o.Set("warmup_seconds", 0.5);    // past the throttle's first slice
      o.Set("duration_seconds", 2.0);  // >= 64 I/Os: window-edge effects < 2 %
      MeterResult r = disk_test::RunDiskIo(o);
      std::string line = r.status == MeterStatus::kOk
                             ? std::to_string(r.claims["seq_read_qd4_bytes_per_second"].get<double>())
                             : "failed " + r.reason;
      (void)!::write(fds[1], line.data(), line.size());
      return 0;
    });
    ::close(fds[1]);
    char buf[512] = {};
    (void)!::read(fds[0], buf, sizeof buf - 1);
    ::close(fds[0]);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    std::string out = buf;
    ASSERT_NE(out.rfind("failed", 0), 0u) << out;
    const double measured = std::stod(out);
    const double ratio = measured / static_cast<double>(kLimitBps);
    std::printf("  %s on %s, %s, %d KiB blocks, qd 4: limit %.1f MiB/s, measured %.2f MiB/s, ratio %.3f\n",
                cg.kind().c_str(), loop.c_str(), engine.c_str(), block >> 10, kLimitBps / 1048576.0,
                measured / 1048576.0, ratio);
    EXPECT_NEAR(ratio, 1.0, 0.10);
  }
}

}  // namespace
}  // namespace resmeter
