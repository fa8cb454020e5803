// The psync engine: queue_depth threads, each issuing blocking pread/pwrite.
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <thread>
#include <vector>

#include "meters/disk/io_engine.h"
#include "meters/disk/io_job_support.h"

namespace resmeter {
namespace {

class PsyncEngine final : public IoEngine {
 public:
  const char* name() const override { return "psync"; }

  Result<IoJobStats> Run(const IoJob& job) override {
    const int threads = job.workload.queue_depth;
    std::atomic<uint64_t> cursor{0};
    std::atomic<bool> stop{false};
    std::vector<IoJobStats> per(static_cast<size_t>(threads));
    std::vector<Status> errors(static_cast<size_t>(threads));
    IoBufferPool buffers(static_cast<size_t>(threads), job.workload.block_size_bytes, job.seed + 0x1000);
    const JobWindow win = JobWindow::Start(job);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] { errors[t] = Worker(job, win, t, &buffers[t], &cursor, &stop, &per[t]); });
    }
    for (auto& th : pool) th.join();
    IoJobStats total;
    for (int t = 0; t < threads; ++t) {
      if (!errors[t].ok()) return errors[t];
      total.ios += per[t].ios;
      total.bytes += per[t].bytes;
      total.latency_ns.Merge(per[t].latency_ns);
    }
    total.window_seconds = job.workload.duration_seconds;
    total.engine_setup = "one thread per queue slot; " + buffers.Backing();
    return total;
  }

 private:
  // One thread's loop; sets *stop on error so the others end too.
  static Status Worker(const IoJob& job, const JobWindow& win, int index, IoBuffer* buffer,
                       std::atomic<uint64_t>* cursor, std::atomic<bool>* stop, IoJobStats* out) {
    const bool write = job.workload.op == IoOp::kWrite;
    const uint64_t seed = job.seed + 0x1000 * static_cast<uint64_t>(index + 1);
    IoBuffer& buf = *buffer;
    OffsetSource offsets(job, cursor, seed ^ 0xabcdef);
    SplitMix64 rng(seed + 3);
    for (;;) {
      if (stop->load(std::memory_order_relaxed)) return Status::Ok();
      if (job.cancelled()) {
        stop->store(true);
        return Status::Cancelled("disk.io " + job.workload.name + " cancelled");
      }
      const double t_start = job.env->MonotonicSeconds();
      if (t_start >= win.end) return Status::Ok();
      const uint64_t off = offsets.Next();
      if (write) buf.Scramble(rng);
      ssize_t n = write ? ::pwrite(job.fd, buf.data(), buf.size(), static_cast<off_t>(off))
                        : ::pread(job.fd, buf.data(), buf.size(), static_cast<off_t>(off));
      const double t_done = job.env->MonotonicSeconds();
      if (n != static_cast<ssize_t>(buf.size())) {
        stop->store(true);
        return IoFailure(job, write, off, n < 0 ? -errno : n);
      }
      if (win.Counts(t_done)) {
        ++out->ios;
        out->bytes += buf.size();
        out->latency_ns.Record(ElapsedNs(t_start, t_done));
      }
    }
  }
};

}  // namespace

std::unique_ptr<IoEngine> MakePsyncEngine() { return std::make_unique<PsyncEngine>(); }

}  // namespace resmeter
