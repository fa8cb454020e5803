// A cache in front of a throttled disk cannot pass as a fast disk
// (issue #22). Root only: it creates two loop devices and a cgroup.
//
// The "VM disk" is loop device A whose backing file is loop device B itself,
// attached buffered (losetup --direct-io=off): every read of A goes through
// B's page cache, and only misses reach B, which a cgroup read-IOPS throttle
// slows down. That page cache plays the host's cache: an O_DIRECT read of A
// cannot bypass it, as a VM cannot bypass its host's. B's readahead is off,
// so a miss reads exactly the page asked for, and B's cache is emptied
// (blockdev --flushbufs) and warmed by reading a region of B with dd before
// each phase. B sits on a sparse 256 MiB file (reads of holes cost no disk).
//
// 1. 4 MiB of 256 MiB cached (1.6 %), throttle 100 reads/s: rand_read_large
//    over A reports the throttle's rate within 15 % (expected 1.016x), while
//    reads confined to the cached 4 MiB (what a small scratch file inside the
//    cache would report) run several times faster.
// 2. Half of B cached, throttle 8 reads/s: blk-throttle grants a cgroup its
//    reads per 100 ms slice, so at 8/s a slice holds less than one read and
//    every read reaching B waits about 1/8 s (at 100/s, 10 reads a slice pass
//    at once and one waits: a burst allowance). The latency is then cache
//    hits vs device reads: a disk_latency_bimodal finding with at least the
//    cached half of the reads in the fast mode.
// Wall time about 10 s (two 0.5 s warm-ups and 2 s + 3 s windows, warming).
#include <fcntl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "disk_io_test_util.h"
#include "meters/disk/io_job_support.h"

namespace resmeter {
namespace {

using disk_test::LoopDevice;
using disk_test::Sh;
using disk_test::TempDir;
using disk_test::ThrottledCgroup;

constexpr uint64_t kDeviceBytes = 256ull << 20;

// Runs rand_read_large at queue depth 1 over `dev` in a child inside `cg`;
// returns {claims, findings: [codes], reason} as JSON.
nlohmann::json RunLargeReadInCgroup(const ThrottledCgroup& cg, const std::string& dev, double duration) {
  int fds[2];
  if (::pipe(fds) != 0) return {{"reason", "pipe failed"}};
  int status = disk_test::InChild([&] {
    ::close(fds[0]);
    nlohmann::json out;
    if (!cg.Join()) {
      out["reason"] = "cannot join the cgroup";
    } else {
      Options o = disk_test::SmallDiskOptions("/var/tmp");
      o.Set("target", "block_device");
      o.Set("block_device", dev);
      o.Set("workloads", nlohmann::json::array({"rand_read_large"}));
      o.Set("deep_queue_depth", 1);
      o.Set("warmup_seconds", 0.5);
      o.Set("duration_seconds", duration);
      MeterResult r = disk_test::RunDiskIo(o);
      out["reason"] = r.reason;
      out["claims"] = r.claims;
      out["findings"] = nlohmann::json::array();
      for (const auto& f : r.findings) out["findings"].push_back(f.code + ": " + f.message);
      out["conditions"] = r.conditions;
    }
    const std::string text = out.dump();
    (void)!::write(fds[1], text.data(), text.size());
    ::close(fds[1]);
    return 0;
  });
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {{"reason", "child died"}};
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return {{"reason", "bad child output: " + text}};
  return j;
}

// Random 4 KiB O_DIRECT reads of the first `span` bytes of `dev` for about
// `seconds` (in this process, outside the throttled cgroup: all hits). Reads/s.
double CachedReadRate(const std::string& dev, uint64_t span, double seconds) {
  const int fd = ::open(dev.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) return 0;
  IoBufferPool pool(1, 4096, 1);
  IoBuffer& buf = pool[0];
  SplitMix64 rng(5);
  Env* env = DefaultEnv();
  const double t0 = env->MonotonicSeconds();
  uint64_t n = 0;
  while (env->MonotonicSeconds() - t0 < seconds) {
    const off_t off = static_cast<off_t>((rng.Next() % (span / 4096)) * 4096);
    if (::pread(fd, buf.data(), 4096, off) != 4096) break;
    ++n;
  }
  const double elapsed = env->MonotonicSeconds() - t0;
  ::close(fd);
  return elapsed > 0 ? static_cast<double>(n) / elapsed : 0;
}

// Empties B's page cache, then caches its first `bytes` (unthrottled: this
// process is not in the cgroup).
bool WarmCache(const LoopDevice& b, uint64_t bytes) {
  return Sh("blockdev --flushbufs " + b.path()) && Sh("dd if=" + b.path() + " of=/dev/null bs=1M count=" +
                                                      std::to_string(bytes >> 20) + " status=none");
}

TEST(disk_io_cache_test, a_cache_in_front_of_a_throttled_disk_cannot_pass_as_a_fast_disk) {
  if (!disk_test::IsRoot()) GTEST_SKIP() << "needs root for loop devices and a cgroup throttle";
  TempDir dir;
  const std::string backing = dir.Sub("backing.img");
  ASSERT_TRUE(Sh("truncate -s " + std::to_string(kDeviceBytes) + " " + backing));
  LoopDevice b, a;
  if (std::string why = b.Attach(backing, "", dir.Sub("loop-b")); !why.empty()) GTEST_SKIP() << why;
  ASSERT_TRUE(WriteCgroupFile(b.QueueAttribute("read_ahead_kb"), "0"));
  if (std::string why = a.Attach(b.path(), "--direct-io=off", dir.Sub("loop-a")); !why.empty())
    GTEST_SKIP() << why;
  ThrottledCgroup cg;
  if (std::string why = cg.Create(b.majmin(), ThrottledCgroup::kReadIops, 100); !why.empty())
    GTEST_SKIP() << why;

  // Phase 1: the working set is 64x the cache.
  constexpr uint64_t kCached1 = 4ull << 20;
  ASSERT_TRUE(WarmCache(b, kCached1));
  const double cached_rate = CachedReadRate(a.path(), kCached1, 0.3);
  nlohmann::json r = RunLargeReadInCgroup(cg, a.path(), 2.0);
  ASSERT_TRUE(r.contains("claims")) << r.dump();
  ASSERT_EQ(r["reason"], "") << r.dump();
  const double large_rate = r["claims"]["rand_read_large_qd1_ios_per_second"].get<double>();
  std::printf(
      "  %s, A=%s buffered on B=%s: %llu MiB of %llu MiB cached, throttle 100 reads/s: rand_read_large %.1f "
      "reads/s (ratio %.3f); reads inside the cache %.0f reads/s\n",
      cg.kind().c_str(), a.path().c_str(), b.path().c_str(), static_cast<unsigned long long>(kCached1 >> 20),
      static_cast<unsigned long long>(kDeviceBytes >> 20), large_rate, large_rate / 100, cached_rate);
  EXPECT_NEAR(large_rate / 100, 1.0, 0.15) << r.dump();
  EXPECT_GT(cached_rate, 3 * large_rate) << "the cache in front of B is not effective; the setup is broken";
  EXPECT_EQ(r["claims"]["rand_read_large_qd1_working_set_bytes"], kDeviceBytes);
  EXPECT_EQ(r["conditions"]["workloads"]["rand_read_large_qd1"]["span_bytes"], kDeviceBytes);

  // Phase 2: half cached, every device read waits for the throttle.
  ASSERT_EQ(cg.Set(b.majmin(), ThrottledCgroup::kReadIops, 8), "");
  ASSERT_TRUE(WarmCache(b, kDeviceBytes / 2));
  r = RunLargeReadInCgroup(cg, a.path(), 3.0);
  ASSERT_TRUE(r.contains("claims")) << r.dump();
  const auto& c = r["claims"];
  std::printf("  half cached, throttle 8 reads/s: %.1f reads/s, bimodal %s, fast fraction %.2f; %s\n",
              c["rand_read_large_qd1_ios_per_second"].get<double>(),
              c["rand_read_large_qd1_latency_bimodal"].dump().c_str(),
              c["rand_read_large_qd1_fast_mode_fraction"].get<double>(),
              r["conditions"]["workloads"]["rand_read_large_qd1"]["latency_modes"].dump().c_str());
  ASSERT_EQ(c["rand_read_large_qd1_latency_bimodal"], true) << r.dump();
  // At least the cached half is fast; some device reads pass at once too when
  // the throttle's slice has room left (0.73 seen), never nearly all of them.
  EXPECT_GE(c["rand_read_large_qd1_fast_mode_fraction"].get<double>(), 0.35);
  EXPECT_LE(c["rand_read_large_qd1_fast_mode_fraction"].get<double>(), 0.9);
  EXPECT_GT(c["rand_read_large_qd1_slow_mode_latency_p50_seconds"].get<double>(), 0.05);
  EXPECT_LT(c["rand_read_large_qd1_fast_mode_latency_p50_seconds"].get<double>(), 0.005);
  bool finding = false;
  for (const auto& f : r["findings"]) finding |= f.get<std::string>().rfind("disk_latency_bimodal", 0) == 0;
  EXPECT_TRUE(finding) << r["findings"].dump();
}

}  // namespace
}  // namespace resmeter
