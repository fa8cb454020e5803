// The disk.io scratch file is gone after a failed run (file size limit hit
// while filling; cancellation mid-workload). Normal runs are checked in
// disk_io_test.cc; SIGINT/SIGTERM on the real binary in disk_io_signals.sh.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <thread>

#include "core/temp_path_registry.h"
#include "disk_io_test_util.h"

namespace resmeter {
namespace {

using disk_test::Entries;
using disk_test::RunDiskIo;
using disk_test::SmallDiskOptions;
using disk_test::TempDir;

TEST(disk_io_cleanup_test, file_is_gone_after_a_failed_fill) {
  TempDir dir;
  int status = disk_test::InChild([&] {
    ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
    struct rlimit lim = {4 << 20, 4 << 20};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 3;
    MeterResult r = RunDiskIo(SmallDiskOptions(dir.path()));  // 16 MiB > 4 MiB limit
    std::fprintf(stderr, "  reason: %s\n", r.reason.c_str());
    bool ok = r.status == MeterStatus::kFailed && r.reason.find("file size limit") != std::string::npos &&
              r.reason.find('\n') == std::string::npos && RegisteredTempPathCount() == 0;
    return ok ? 0 : 1;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(disk_io_cleanup_test, file_is_gone_after_cancellation_mid_workload) {
  TempDir dir;
  Options o = SmallDiskOptions(dir.path());
  o.Set("duration_seconds", 20.0);
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  bool saw_file = false;
  std::thread canceller([&] {
    for (int i = 0; i < 200 && !saw_file; ++i) {
      saw_file = !Entries(dir.path()).empty();
      DefaultEnv()->SleepFor(0.02);
    }
    DefaultEnv()->SleepFor(0.5);  // well into the first workload
    cancel->store(true);
  });
  const double t0 = DefaultEnv()->MonotonicSeconds();
  MeterResult r = RunDiskIo(o, cancel);
  canceller.join();
  EXPECT_TRUE(saw_file);
  EXPECT_EQ(r.status, MeterStatus::kFailed);
  EXPECT_NE(r.reason.find("cancelled"), std::string::npos) << r.reason;
  // Stops promptly (generous bound for a loaded 2-core machine), not after the 20 s window.
  EXPECT_LT(DefaultEnv()->MonotonicSeconds() - t0, 15.0);
  EXPECT_TRUE(Entries(dir.path()).empty());
  EXPECT_EQ(RegisteredTempPathCount(), 0);
}

}  // namespace
}  // namespace resmeter
