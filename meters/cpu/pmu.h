// PMU access for the CPU meters: a cycle counter behind an interface, the
// perf_event_open implementation whose event is encoded by libpfm4, and the
// runtime check that decides whether the counter can be trusted.
//
// Many VMs (these machines among them) expose no PMU: perf_event_open fails
// and the meters fall back to the calibrated chain (meters/cpu/cpu_work.h). Some
// hypervisors expose a PMU that opens but counts zero or nonsense; DetectPmu
// runs a probe whose cycle cost is known and treats such a counter as absent,
// with a finding. Tests inject a fake CycleCounterSource.
//
// Threading: a CycleCounter counts the thread that opened it and must be used
// only there. A CycleCounterSource may be shared between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/result.h"
#include "core/status.h"
#include "meters/api/meter.h"

namespace resmeter {

// Counts core cycles of the calling thread, user mode only.
class CycleCounter {
 public:
  virtual ~CycleCounter() = default;
  // Resets the count to zero and starts counting.
  virtual Status Start() = 0;
  // Stops counting and returns the cycles counted since Start().
  virtual Result<uint64_t> Stop() = 0;
};

// Opens cycle counters for the calling thread.
class CycleCounterSource {
 public:
  virtual ~CycleCounterSource() = default;
  // Opens a counter on the calling thread, or NotSupported/PermissionDenied.
  virtual Result<std::unique_ptr<CycleCounter>> OpenForCurrentThread() = 0;
  // The event as encoded, e.g. "perf::PERF_COUNT_HW_CPU_CYCLES (libpfm4)".
  virtual std::string EventName() const = 0;
};

// perf_event_open with the cycles event encoded by libpfm4.
std::unique_ptr<CycleCounterSource> MakePerfCycleCounterSource();

// The outcome of the runtime check.
struct PmuDetection {
  bool usable = false;
  std::string detail;               // why usable or not, one line
  std::optional<Finding> finding;   // set when a PMU opened but counted nonsense
};

// Opens a counter on the calling thread, runs `probe` (which returns the
// minimum number of cycles it must have taken) a few times, and accepts the
// PMU only when every count is at least that minimum and at most 100 times it.
PmuDetection DetectPmu(CycleCounterSource& source, const std::function<uint64_t()>& probe);

}  // namespace resmeter
