#include "meters/cpu/pmu.h"

#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace resmeter {
namespace {

// A perf_event file descriptor counting the opening thread.
class PerfCycleCounter final : public CycleCounter {
 public:
  explicit PerfCycleCounter(int fd) : fd_(fd) {}
  ~PerfCycleCounter() override { ::close(fd_); }
  PerfCycleCounter(const PerfCycleCounter&) = delete;
  PerfCycleCounter& operator=(const PerfCycleCounter&) = delete;

  Status Start() override {
    if (ioctl(fd_, PERF_EVENT_IOC_RESET, 0) != 0 || ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0) != 0) {
      return Status::FromErrno("perf_event ioctl", errno);
    }
    return Status::Ok();
  }

  Result<uint64_t> Stop() override {
    if (ioctl(fd_, PERF_EVENT_IOC_DISABLE, 0) != 0) return Status::FromErrno("perf_event ioctl", errno);
    uint64_t count = 0;
    if (::read(fd_, &count, sizeof count) != static_cast<ssize_t>(sizeof count)) {
      return Status::IOError("perf_event read: short read");
    }
    return count;
  }

 private:
  int fd_;
};

// Encodes the cycles event with libpfm4 and opens it with perf_event_open.
class PerfCycleCounterSource final : public CycleCounterSource {
 public:
  Result<std::unique_ptr<CycleCounter>> OpenForCurrentThread() override {
    RESMETER_RETURN_IF_ERROR(Encode());
    struct perf_event_attr attr = attr_;
    attr.size = sizeof attr;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd < 0) return Status::FromErrno("perf_event_open(" + event_ + ")", errno);
    return std::unique_ptr<CycleCounter>(new PerfCycleCounter(static_cast<int>(fd)));
  }

  std::string EventName() const override { return event_.empty() ? "cycles" : event_ + " (libpfm4)"; }

 private:
  // Finds the first cycles event name libpfm4 can encode for perf_events.
  Status Encode() {
    std::lock_guard<std::mutex> lock(mu_);
    if (encoded_) return Status::Ok();
    static std::once_flag init_once;
    static int init_rc = PFM_SUCCESS;
    std::call_once(init_once, [] { init_rc = pfm_initialize(); });
    if (init_rc != PFM_SUCCESS) return Status::NotSupported(std::string("pfm_initialize: ") + pfm_strerror(init_rc));
    static const char* kNames[] = {"perf::PERF_COUNT_HW_CPU_CYCLES", "cycles", "cpu_clk_unhalted"};
    int last = PFM_SUCCESS;
    for (const char* name : kNames) {
      struct perf_event_attr attr;
      std::memset(&attr, 0, sizeof attr);
      pfm_perf_encode_arg_t arg;
      std::memset(&arg, 0, sizeof arg);
      arg.attr = &attr;
      arg.size = sizeof arg;
      last = pfm_get_os_event_encoding(name, PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
      if (last == PFM_SUCCESS) {
        attr_ = attr;
        event_ = name;
        encoded_ = true;
        return Status::Ok();
      }
    }
    return Status::NotSupported(std::string("libpfm4: no cycles event: ") + pfm_strerror(last));
  }

  std::mutex mu_;
  bool encoded_ = false;
  struct perf_event_attr attr_ {};
  std::string event_;
};

}  // namespace

std::unique_ptr<CycleCounterSource> MakePerfCycleCounterSource() {
  return std::make_unique<PerfCycleCounterSource>();
}

PmuDetection DetectPmu(CycleCounterSource& source, const std::function<uint64_t()>& probe) {
  PmuDetection out;
  Result<std::unique_ptr<CycleCounter>> counter = source.OpenForCurrentThread();
  if (!counter.ok()) {
    out.detail = "no usable PMU: " + counter.status().message();
    return out;
  }
  constexpr int kProbes = 3;
  for (int i = 0; i < kProbes; ++i) {
    Status started = (*counter)->Start();
    uint64_t needed = started.ok() ? probe() : 0;
    Result<uint64_t> counted = started.ok() ? (*counter)->Stop() : Result<uint64_t>(started);
    if (!counted.ok()) {
      out.detail = "no usable PMU: " + counted.status().message();
      return out;
    }
    const uint64_t c = *counted;
    if (c < needed || c / 100 > needed) {
      out.detail = "PMU counts nonsense: " + source.EventName() + " counted " + std::to_string(c) +
                   " cycles for a probe that needs at least " + std::to_string(needed);
      Finding f;
      f.code = "pmu_counts_nonsense";
      f.message = "a PMU opened but its cycle count is implausible; using the calibrated chain instead";
      f.details = {{"event", source.EventName()},
                   {"counted_cycles", c},
                   {"minimum_cycles", needed}};
      out.finding = std::move(f);
      return out;
    }
  }
  out.usable = true;
  out.detail = "PMU cycles counter " + source.EventName() + " passed the probe";
  return out;
}

}  // namespace resmeter
