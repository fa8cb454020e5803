// The io_uring engine (liburing): one ring of queue_depth entries, kept full.
//
// What makes it cost as little CPU per I/O as fio (issue #22: on a 2-vCPU VM
// the deep-queue rows read 0.87-0.91 of fio while the engine, not the disk,
// was the bottleneck):
//  - one io_uring_enter per batch: every free slot is refilled, then
//    io_uring_submit_and_wait submits them and waits for a completion in the
//    same system call (before: io_uring_submit, then io_uring_wait_cqe);
//  - completions reaped in batches with io_uring_peek_batch_cqe, one clock
//    reading per batch;
//  - a ring set up SINGLE_ISSUER | DEFER_TASKRUN (completion work runs when
//    this thread enters the kernel instead of interrupting it with an IPI),
//    falling back to COOP_TASKRUN, then to no flags, on older kernels;
//  - registered buffers (READ_FIXED / WRITE_FIXED: no page pinning per I/O)
//    and a registered file (no fd lookup per I/O), each dropped when the
//    kernel refuses it (RLIMIT_MEMLOCK, old kernel).
// IoJobStats::engine_setup names what was used; it goes into the conditions.
#include <liburing.h>
#include <sys/uio.h>

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
  // Tries the cheapest completion mode the kernel accepts. Returns 0 or -errno
  // (of the last, flag-less attempt).
  int Init(unsigned entries) {
    struct Mode {
      unsigned flags;
      const char* name;
    };
    static const Mode kModes[] = {
        {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "single_issuer+defer_taskrun"},
        {IORING_SETUP_COOP_TASKRUN, "coop_taskrun"},
        {0, "default"}};
    int rc = -EINVAL;
    for (const Mode& m : kModes) {
      io_uring_params p{};
      p.flags = m.flags;
      rc = io_uring_queue_init_params(entries, &ring_, &p);
      if (rc == 0) {
        ok_ = true;
        mode_ = m.name;
        return 0;
      }
      if (rc != -EINVAL) return rc;  // EINVAL: flag unknown to this kernel; anything else is final
    }
    return rc;
  }
  io_uring* get() { return &ring_; }
  const char* mode() const { return mode_; }

 private:
  io_uring ring_{};
  bool ok_ = false;
  const char* mode_ = "";
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
      std::unique_ptr<IoBuffer> buf;
      uint64_t offset = 0;
      double submitted = 0;
    };
    std::vector<Slot> slots(static_cast<size_t>(qd));
    std::vector<iovec> iovecs(static_cast<size_t>(qd));
    std::vector<int> idle;
    for (int i = 0; i < qd; ++i) {
      slots[i].buf = std::make_unique<IoBuffer>(job.workload.block_size_bytes, job.seed + 0x1000 * (i + 1));
      iovecs[i] = {slots[i].buf->data(), slots[i].buf->size()};
      idle.push_back(i);
    }
    const bool fixed_buffers = io_uring_register_buffers(ring.get(), iovecs.data(), iovecs.size()) == 0;
    const bool fixed_file = io_uring_register_files(ring.get(), &job.fd, 1) == 0;
    const int fd = fixed_file ? 0 : job.fd;  // index 0 of the registered files

    std::atomic<uint64_t> cursor{0};
    OffsetSource offsets(job, &cursor, job.seed ^ 0xabcdef);
    SplitMix64 rng(job.seed + 3);
    IoJobStats stats;
    stats.engine_setup = std::string("ring ") + ring.mode() + (fixed_buffers ? ", registered buffers" : "") +
                         (fixed_file ? ", registered file" : "") + ", batched submit+wait";
    Status failure;
    int in_flight = 0;
    std::vector<io_uring_cqe*> cqes(static_cast<size_t>(qd));
    const JobWindow win = JobWindow::Start(job);
    bool submitting = true;
    for (;;) {
      if (job.cancelled() && failure.ok())
        failure = Status::Cancelled("disk.io " + job.workload.name + " cancelled");
      if (job.env->MonotonicSeconds() >= win.end || !failure.ok()) submitting = false;
      if (submitting && !idle.empty()) {
        for (int i : idle) {
          Slot& s = slots[i];
          s.offset = offsets.Next();
          io_uring_sqe* sqe = io_uring_get_sqe(ring.get());
          const unsigned len = static_cast<unsigned>(s.buf->size());
          if (write) s.buf->Scramble(rng);
          if (fixed_buffers) {
            if (write)
              io_uring_prep_write_fixed(sqe, fd, s.buf->data(), len, s.offset, i);
            else
              io_uring_prep_read_fixed(sqe, fd, s.buf->data(), len, s.offset, i);
          } else if (write) {
            io_uring_prep_write(sqe, fd, s.buf->data(), len, s.offset);
          } else {
            io_uring_prep_read(sqe, fd, s.buf->data(), len, s.offset);
          }
          if (fixed_file) sqe->flags |= IOSQE_FIXED_FILE;
          io_uring_sqe_set_data64(sqe, static_cast<uint64_t>(i));
        }
        const double now = job.env->MonotonicSeconds();
        for (int i : idle) slots[i].submitted = now;
        in_flight += static_cast<int>(idle.size());
        idle.clear();
      }
      if (in_flight == 0) break;
      // Submits the batch (if any) and waits for at least one completion.
      int rc = io_uring_submit_and_wait(ring.get(), 1);
      // EINTR, EAGAIN, EBUSY: nothing lost; unsubmitted entries stay queued for the next call.
      if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
        return Status::FromErrno("io_uring_submit_and_wait", -rc);
      const double t_done = job.env->MonotonicSeconds();
      const unsigned n = io_uring_peek_batch_cqe(ring.get(), cqes.data(), static_cast<unsigned>(qd));
      for (unsigned k = 0; k < n; ++k) {
        const io_uring_cqe* cqe = cqes[k];
        const int i = static_cast<int>(io_uring_cqe_get_data64(cqe));
        Slot& s = slots[i];
        if (cqe->res != static_cast<int>(s.buf->size())) {
          if (failure.ok()) failure = IoFailure(job, write, s.offset, cqe->res);
        } else if (win.Counts(t_done)) {
          ++stats.ios;
          stats.bytes += s.buf->size();
          stats.latency_ns.Record(ElapsedNs(s.submitted, t_done));
        }
        idle.push_back(i);
      }
      io_uring_cq_advance(ring.get(), n);
      in_flight -= static_cast<int>(n);
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
