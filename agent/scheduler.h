// Scheduler: the one place where the agent runs meters.
//
// A thread runs the light meters every agent.light_interval_seconds and the
// heavy meters (benchmarks) at secret random times, on average every
// agent.heavy_interval_seconds (agent/heavy_schedule.h), or on demand:
// RequestHeavy (SIGUSR1, from the host; it does not move the secret
// schedule) and Attest (a buyer's nonce). Every run records why it ran
// (MeterRun::trigger: schedule, startup, provider_signal, buyer_nonce) and
// when it finished; both go into the signed submods. After every cycle it
// signs a report over the latest run of every meter and stores it in
// AgentState. Challenges (POST /v1/attest) run through Attest().
//
// One measurement mutex serializes every meter run: heavy meters never
// overlap each other, a light cycle, or a challenge. A CPU budget
// (agent.cpu_budget_ratio of one core, measured with getrusage outside heavy
// runs) stretches the light interval up to 4x when the agent costs too much.
//
// Thread-safe: Attest, RequestHeavy, UpdateConfig and Stop may be called from
// any thread while the scheduler thread runs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent_state.h"
#include "agent/config.h"
#include "agent/heavy_schedule.h"
#include "agent/logger.h"
#include "agent/report_timestamper.h"
#include "core/env.h"
#include "jose/signing_key.h"

namespace resmeter {

class Scheduler {
 public:
  // Called after each cycle with the runs it made and the wall time.
  using RunsObserver = std::function<void(const std::vector<MeterRun>& runs, double wall)>;

  struct Deps {
    AgentState* state = nullptr;
    Logger* log = nullptr;
    Env* env = nullptr;
    std::shared_ptr<const SigningKey> key;
    RunsObserver on_runs;                  // optional
    HeavySchedule::UniformSource uniform;  // draws of the heavy schedule; empty: CsprngUniform
  };

  Scheduler(Deps deps, std::shared_ptr<const Config> config);
  ~Scheduler();  // stops the thread
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the thread: a light cycle at once, the first heavy one (trigger
  // "startup") within 0.25 x the heavy interval, then at random gaps.
  void Start();
  // Asks the thread to stop, waits for the meter running now (not the rest
  // of its cycle) and joins. Idempotent.
  void Stop();
  // Uses `config` from the next cycle on; reschedules the heavy run when its
  // interval changed.
  void UpdateConfig(std::shared_ptr<const Config> config);
  // Runs the heavy meters as soon as nothing else is measuring, marked
  // trigger "provider_signal" (SIGUSR1: the host chose the moment). The
  // secret schedule is left as it was.
  void RequestHeavy();

  // Serves a challenge: runs the light meters and the enabled heavy meters
  // named in `heavy_meters` now (after the nonce arrived; trigger
  // "buyer_nonce") and signs a report over the latest run of every meter,
  // bound to `nonce_hex` (normalized). Heavy meters not named keep their
  // last run, with its own measured_at and trigger. InvalidArgument when a
  // name is not an enabled heavy meter; DeadlineExceeded when another
  // measurement is still running after `wait_seconds`; Cancelled when stopping.
  Result<SignedReport> Attest(const std::string& nonce_hex, const std::vector<std::string>& heavy_meters,
                              double wait_seconds);

  // Runs one light or heavy cycle in the calling thread (tests, start-up);
  // `trigger` is one of the kTrigger* names (meters/registry/runner.h).
  Status RunLightCycle();
  Status RunHeavyCycle(const std::string& trigger);
  // OK when `name` is a registered heavy meter enabled in `config`; else
  // InvalidArgument (unknown, light) or PermissionDenied (disabled) naming it.
  static Status CheckOnDemandHeavy(const Config& config, const std::string& name);
  // The light interval stretch factor after a cycle that used `cpu_ratio` of
  // one core against `budget`: grows 1.5x when over (max 4), shrinks when under half.
  static double NextStretch(double stretch, double cpu_ratio, double budget);

 private:
  std::shared_ptr<const Config> config() const;
  // Runs the enabled meters of `kind` one by one (only those in `names`
  // when given; stopping early when asked), marking each run with
  // `trigger`; records them in the state.
  std::vector<MeterRun> RunPlans(const Config& config, MeterKind kind, const std::string& trigger,
                                 const std::vector<std::string>* names = nullptr);
  // Signs a report over the latest run of every meter; stores it unless it answers a nonce.
  Result<SignedReport> SignLatest(const Config& config, const std::optional<std::string>& nonce_hex);
  void Loop();

  Deps deps_;
  mutable std::mutex config_mu_;
  std::shared_ptr<const Config> config_;
  std::timed_mutex measure_mu_;  // held while any meter runs

  std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  bool stop_ = false;
  bool heavy_requested_ = false;
  bool reschedule_heavy_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  HeavySchedule heavy_schedule_;  // used by the scheduler thread only
  ReportTimestamper stamper_;     // RFC 3161 tokens on reports (time.tsa); remembers failed TSAs
  double heavy_cpu_seconds_ = 0;  // CPU spent in heavy cycles (excluded from the budget)
};

}  // namespace resmeter
