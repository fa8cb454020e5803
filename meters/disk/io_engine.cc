// Engine selection, the shared job helpers and the fsync workload.
#include "meters/disk/io_engine.h"

#include <unistd.h>

#include <cerrno>

#include "meters/disk/io_job_support.h"

namespace resmeter {

OffsetSource::OffsetSource(const IoJob& job, std::atomic<uint64_t>* seq_cursor, uint64_t seed)
    : sequential_(job.workload.pattern == IoPattern::kSequential),
      block_(job.workload.block_size_bytes),
      blocks_(job.target_size / job.workload.block_size_bytes),
      cursor_(seq_cursor),
      rng_(seed) {}

uint64_t OffsetSource::Next() {
  if (sequential_) return (cursor_->fetch_add(1, std::memory_order_relaxed) % blocks_) * block_;
  return (rng_.Next() % blocks_) * block_;
}

JobWindow JobWindow::Start(const IoJob& job) {
  JobWindow w;
  w.t0 = job.env->MonotonicSeconds();
  w.measure_start = w.t0 + job.workload.warmup_seconds;
  w.end = w.measure_start + job.workload.duration_seconds;
  return w;
}

Status IoFailure(const IoJob& job, bool write, uint64_t offset, long result) {
  std::string what = std::string(write ? "write" : "read") + " of " +
                     std::to_string(job.workload.block_size_bytes) + " bytes at offset " +
                     std::to_string(offset) + " of " + job.path;
  if (result < 0) {
    if (-result == ENOSPC) return Status::IOError("disk full: " + what + " failed: No space left on device");
    return Status::FromErrno(what, static_cast<int>(-result));
  }
  return Status::IOError(what + " was short (" + std::to_string(result) + " bytes)");
}

Result<std::unique_ptr<IoEngine>> MakeIoEngine(const std::string& choice, std::string* fallback_reason) {
  if (fallback_reason) fallback_reason->clear();
  if (choice == "psync") return MakePsyncEngine();
  std::string why = UringUnavailableReason();
  if (why.empty()) return MakeUringEngine();
  if (choice == "io_uring") return Status::NotSupported("meters.disk.io.engine = io_uring: " + why);
  if (fallback_reason) *fallback_reason = why;
  return MakePsyncEngine();
}

Result<IoJobStats> RunFsyncJob(const IoJob& job) {
  IoJobStats stats;
  IoBufferPool pool(1, job.workload.block_size_bytes, job.seed);
  IoBuffer& buf = pool[0];
  std::atomic<uint64_t> cursor{0};
  OffsetSource offsets(job, &cursor, job.seed ^ 0x5f5f);
  SplitMix64 rng(job.seed + 7);
  const JobWindow win = JobWindow::Start(job);
  for (;;) {
    if (job.cancelled()) return Status::Cancelled("disk.io fsync workload cancelled");
    if (job.env->MonotonicSeconds() >= win.end) break;
    const uint64_t off = offsets.Next();
    buf.Scramble(rng);
    ssize_t n = ::pwrite(job.fd, buf.data(), buf.size(), static_cast<off_t>(off));
    if (n != static_cast<ssize_t>(buf.size())) return IoFailure(job, true, off, n < 0 ? -errno : n);
    const double t_start = job.env->MonotonicSeconds();
    if (::fsync(job.fd) != 0) return Status::FromErrno("fsync of " + job.path, errno);
    const double t_done = job.env->MonotonicSeconds();
    if (win.Counts(t_done)) {
      ++stats.ios;
      stats.bytes += buf.size();
      stats.latency_ns.Record(ElapsedNs(t_start, t_done));
    }
  }
  stats.window_seconds = job.workload.duration_seconds;
  return stats;
}

}  // namespace resmeter
