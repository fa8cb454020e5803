// The io_uring engine (liburing): one ring of queue_depth entries, kept full.
// Each free slot is refilled and submitted on its own (one io_uring_submit
// per I/O, as fio does by default with iodepth_batch_submit=1); after one
// wait all available completions are reaped.
//
// Why one submit per I/O (issue #22): on a virtio-blk disk in a KVM guest,
// submitting all free slots in one io_uring_submit read 0.82 (random read)
// and 0.74 (random write) of fio at queue depth 32. perf showed 25 % of the
// engine's samples in iowrite16, the virtqueue kick (a VM exit), and none in
// fio: a batch is flushed through the block plug with a kick each time, while
// single requests arriving at a busy queue are picked up without one. One
// submit per I/O read 1.01-1.02 of fio on reads and 0.90-1.07 on writes in
// the same standalone A/B. Also tried earlier and not kept: submit_and_wait,
// peek_batch_cqe, SINGLE_ISSUER|DEFER_TASKRUN rings, registered buffers and
// files (0.90-0.92 of fio).
#include <liburing.h>

#include <cstring>
#include <memory>
#include <vector>

#include "meters/disk/io_engine.h"
#include "meters/disk/io_job_support.h"

namespace resmeter {
namespace {

// Owns an initialised ring.
class Ring {
 public:
  Ring() = default;
  ~Ring() {
    if (ok_) io_uring_queue_exit(&ring_);
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  // Returns 0 or -errno.
  int Init(unsigned entries) {
    int rc = io_uring_queue_init(entries, &ring_, 0);
    ok_ = rc == 0;
    return rc;
  }
  io_uring* get() { return &ring_; }

 private:
  io_uring ring_{};
  bool ok_ = false;
};

class UringEngine final : public IoEngine {
 public:
  const char* name() const override { return "io_uring"; }

  Result<IoJobStats> Run(const IoJob& job) override {
    const int qd = job.workload.queue_depth;
    const bool write = job.workload.op == IoOp::kWrite;
    Ring ring;
    if (int rc = ring.Init(static_cast<unsigned>(qd)); rc < 0) {
      return Status::FromErrno("io_uring_queue_init(" + std::to_string(qd) + ")", -rc);
    }
    struct Slot {
      uint64_t offset = 0;
      double submitted = 0;
    };
    IoBufferPool buffers(static_cast<size_t>(qd), job.workload.block_size_bytes, job.seed + 0x1000);
    std::vector<Slot> slots(static_cast<size_t>(qd));
    std::vector<int> idle;
    for (int i = 0; i < qd; ++i) {
      idle.push_back(i);
    }
    std::atomic<uint64_t> cursor{0};
    OffsetSource offsets(job, &cursor, job.seed ^ 0xabcdef);
    SplitMix64 rng(job.seed + 3);
    IoJobStats stats;
    stats.engine_setup = "ring default flags, one submit per I/O, wait then reap all; " + buffers.Backing();
    Status failure;
    int in_flight = 0;
    const JobWindow win = JobWindow::Start(job);
    bool submitting = true;
    for (;;) {
      if (job.cancelled() && failure.ok())
        failure = Status::Cancelled("disk.io " + job.workload.name + " cancelled");
      double now = job.env->MonotonicSeconds();
      if (now >= win.end || !failure.ok()) submitting = false;
      if (submitting && !idle.empty()) {
        size_t used = 0;
        for (; used < idle.size(); ++used) {
          const int i = idle[used];
          Slot& s = slots[i];
          IoBuffer& buf = buffers[static_cast<size_t>(i)];
          s.offset = offsets.Next();
          io_uring_sqe* sqe = io_uring_get_sqe(ring.get());
          if (write) {
            buf.Scramble(rng);
            io_uring_prep_write(sqe, job.fd, buf.data(), static_cast<unsigned>(buf.size()), s.offset);
          } else {
            io_uring_prep_read(sqe, job.fd, buf.data(), static_cast<unsigned>(buf.size()), s.offset);
          }
          io_uring_sqe_set_data64(sqe, static_cast<uint64_t>(i));
          s.submitted = job.env->MonotonicSeconds();
          const int n = io_uring_submit(ring.get());
          if (n < 0) {
            if (failure.ok()) failure = Status::FromErrno("io_uring_submit", -n);
            submitting = false;
            break;
          }
          ++in_flight;
        }
        idle.erase(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(used));
      }
      if (in_flight == 0) break;
      io_uring_cqe* cqe = nullptr;
      int rc = io_uring_wait_cqe(ring.get(), &cqe);
      if (rc == -EINTR) continue;
      if (rc < 0) return Status::FromErrno("io_uring_wait_cqe", -rc);
      const double t_done = job.env->MonotonicSeconds();
      unsigned head;
      unsigned seen = 0;
      io_uring_for_each_cqe(ring.get(), head, cqe) {
        ++seen;
        const int i = static_cast<int>(io_uring_cqe_get_data64(cqe));
        Slot& s = slots[i];
        const size_t bytes = buffers[static_cast<size_t>(i)].size();
        if (cqe->res != static_cast<int>(bytes)) {
          if (failure.ok()) failure = IoFailure(job, write, s.offset, cqe->res);
        } else if (win.Counts(t_done)) {
          ++stats.ios;
          stats.bytes += bytes;
          stats.latency_ns.Record(ElapsedNs(s.submitted, t_done));
        }
        idle.push_back(i);
      }
      io_uring_cq_advance(ring.get(), seen);
      in_flight -= static_cast<int>(seen);
    }
    if (!failure.ok()) return failure;
    stats.window_seconds = job.workload.duration_seconds;
    return stats;
  }
};

}  // namespace

std::unique_ptr<IoEngine> MakeUringEngine() { return std::make_unique<UringEngine>(); }

std::string UringUnavailableReason() {
  Ring ring;
  int rc = ring.Init(4);
  if (rc == 0) return "";
  return std::string("io_uring unavailable: io_uring_queue_init: ") + std::strerror(-rc);
}

}  // namespace resmeter
