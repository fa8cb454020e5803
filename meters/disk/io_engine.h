// IoEngine: runs one time-based disk workload (meters/disk/disk_workload_plan.h)
// on an open file descriptor and returns what completed in the measured
// window. Two implementations: io_uring through liburing
// (meters/disk/io_engine_uring.cc) and psync, pread/pwrite from queue_depth
// threads (meters/disk/io_engine_psync.cc). MakeIoEngine picks one.
//
// Timeline of a job: I/O starts at t0; completions before t0 + warm-up are
// not counted; completions in [t0 + warm-up, t0 + warm-up + duration) are
// counted (bytes, I/Os, latency from submission to completion); no new I/O
// is issued after the window and in-flight I/O is drained uncounted.
//
// Thread behaviour: an engine object runs one job at a time; Run() may start
// threads and joins them before it returns. It polls `cancelled` and stops
// early with Status::Cancelled.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/env.h"
#include "core/result.h"
#include "meters/api/latency_histogram.h"
#include "meters/disk/disk_workload_plan.h"

namespace resmeter {

struct IoJob {
  int fd = -1;
  std::string path;          // for error messages only
  uint64_t target_size = 0;  // bytes addressable from offset 0
  DiskWorkload workload;
  uint64_t seed = 1;   // random offsets and buffer contents
  Env* env = nullptr;  // the clock
  std::function<bool()> cancelled = [] { return false; };
};

struct IoJobStats {
  uint64_t ios = 0;             // I/Os (or fsyncs) completed in the window
  uint64_t bytes = 0;           // bytes completed in the window
  double window_seconds = 0;    // the measured window's length
  LatencyHistogram latency_ns;  // per-I/O latency (fsync: per fsync call)
  std::string engine_setup;     // how the engine issued I/O (ring mode, registered buffers), or empty

  double BytesPerSecond() const { return window_seconds > 0 ? bytes / window_seconds : 0; }
  double IosPerSecond() const { return window_seconds > 0 ? ios / window_seconds : 0; }
};

class IoEngine {
 public:
  virtual ~IoEngine() = default;
  // "io_uring" or "psync".
  virtual const char* name() const = 0;
  // Runs a read or write workload (not fsync; see RunFsyncJob). Returns
  // IOError naming the path and offset on a failed or short I/O.
  virtual Result<IoJobStats> Run(const IoJob& job) = 0;
};

// Creates the engine for `choice` ("auto", "io_uring", "psync"). With "auto",
// io_uring is used when a ring can be created, else psync and
// *fallback_reason says why. "io_uring" when unavailable is NotSupported.
Result<std::unique_ptr<IoEngine>> MakeIoEngine(const std::string& choice, std::string* fallback_reason);
std::unique_ptr<IoEngine> MakeUringEngine();
std::unique_ptr<IoEngine> MakePsyncEngine();
// Empty when io_uring works here, else the reason it does not.
std::string UringUnavailableReason();

// The fsync-latency workload, engine-independent: repeatedly writes one
// random block and times fsync() of the file.
Result<IoJobStats> RunFsyncJob(const IoJob& job);

}  // namespace resmeter
