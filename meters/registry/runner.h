// MeterRunner: runs meters under the framework's rules.
//
// For every call it measures the duration, enforces the meter's timeout,
// turns exceptions into `failed`, stamps when the call ended (wall clock of
// the injected Env), and reports progress. A meter that
// overruns its timeout is asked to stop (ctx.cancelled()); if it has not
// returned after a short grace period its thread is abandoned (it keeps
// only shared state alive) and the result is `failed` with "timed out".
// Thread-compatible: use one runner per thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/option_spec.h"
#include "meters/api/meter.h"
#include "meters/registry/registry.h"

namespace resmeter {

// One meter selected to run, with its validated options.
struct MeterPlan {
  const MeterInfo* info = nullptr;
  double timeout_seconds = 0;
  Options options;
};

// Why meters ran: each submod's `trigger` (see README, "Freshness").
inline constexpr const char* kTriggerSchedule = "schedule";  // the agent's own random schedule
inline constexpr const char* kTriggerStartup = "startup";    // the first heavy run after the agent started
inline constexpr const char* kTriggerProviderSignal = "provider_signal";  // SIGUSR1 from the host
inline constexpr const char* kTriggerBuyerNonce = "buyer_nonce";  // POST /v1/attest, after its nonce arrived
inline constexpr const char* kTriggerProbe = "probe";             // `resmeter probe`

// The outcome of one meter call, as it goes into a report's submods.
struct MeterRun {
  std::string name;
  MeterKind kind = MeterKind::kLight;
  MeterResult result;
  // When the call returned (Env::WallSeconds, Unix seconds): the submod's `measured_at`.
  double measured_at_unix_seconds = 0;
  // Why it ran (the submod's `trigger`, one of the kTrigger* names); set by
  // the caller, empty: unknown.
  std::string trigger;
};

struct RunnerRoots {
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  std::string state_dir;            // passed to MeterContext::state_dir
  const Signer* signer = nullptr;   // passed to MeterContext::signer
  Options global;                   // passed to MeterContext::global
  // When set and it becomes true (the agent is stopping), the running meter
  // is cancelled like a timed-out one and reported `failed`, "cancelled".
  const std::atomic<bool>* stop = nullptr;
};

class MeterRunner {
 public:
  // Called before and after each meter: (name, nullptr) then (name, &run).
  using Observer = std::function<void(const std::string& name, const MeterRun* done)>;

  MeterRunner(Env* env, RunnerRoots roots) : env_(env), roots_(std::move(roots)) {}
  MeterRunner(const MeterRunner&) = delete;
  MeterRunner& operator=(const MeterRunner&) = delete;

  // Runs one meter; never throws. `progress` receives the meter's progress lines.
  MeterRun Run(const MeterPlan& plan, const std::function<void(const std::string&)>& progress = {});
  // Runs the plans in order, one at a time.
  std::vector<MeterRun> RunAll(const std::vector<MeterPlan>& plans, const Observer& observer = {});

  // Seconds a timed-out meter gets to notice cancellation before it is abandoned.
  static constexpr double kCancelGraceSeconds = 2.0;

 private:
  Env* env_;
  RunnerRoots roots_;
};

}  // namespace resmeter
