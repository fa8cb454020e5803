// Scheduler: the one place where the agent runs meters.
//
// A thread runs the light meters every agent.light_interval_seconds and the
// heavy meters (benchmarks) every agent.heavy_interval_seconds with random
// jitter (so a fleet started together does not benchmark at once), or on
// demand (RequestHeavy, SIGUSR1). After every cycle it signs a report over
// the latest run of every meter and stores it in AgentState. Challenges
// (POST /v1/attest) run through Attest().
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
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent_state.h"
#include "agent/config.h"
#include "agent/logger.h"
#include "core/env.h"
#include "reporter/signing_key.h"

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
    RunsObserver on_runs;  // optional
  };

  Scheduler(Deps deps, std::shared_ptr<const Config> config);
  ~Scheduler();  // stops the thread
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the thread: a light cycle at once, the first heavy one after a
  // random delay of up to interval x jitter ratio.
  void Start();
  // Asks the thread to stop, waits for the meter running now (not the rest
  // of its cycle) and joins. Idempotent.
  void Stop();
  // Uses `config` from the next cycle on; reschedules the heavy run when its
  // interval changed.
  void UpdateConfig(std::shared_ptr<const Config> config);
  // Runs the heavy meters as soon as nothing else is measuring.
  void RequestHeavy();

  // Serves a challenge: runs the light meters (and the heavy ones when
  // `heavy`) now and signs a report over the latest run of every meter,
  // bound to `nonce_hex` (normalized). DeadlineExceeded when another
  // measurement is still running after `wait_seconds`; Cancelled when stopping.
  Result<SignedReport> Attest(const std::string& nonce_hex, bool heavy, double wait_seconds);

  // Runs one light or heavy cycle in the calling thread (tests, start-up).
  Status RunLightCycle();
  Status RunHeavyCycle(const std::string& trigger);

  // Seconds until the next heavy run: interval x (1 + jitter x (2u - 1)), u in [0, 1).
  static double NextHeavyDelay(double interval, double jitter_ratio, double u);
  // Seconds until the first heavy run after start: interval x jitter x u (at least 1 s).
  static double FirstHeavyDelay(double interval, double jitter_ratio, double u);
  // The light interval stretch factor after a cycle that used `cpu_ratio` of
  // one core against `budget`: grows 1.5x when over (max 4), shrinks when under half.
  static double NextStretch(double stretch, double cpu_ratio, double budget);

 private:
  std::shared_ptr<const Config> config() const;
  // Runs plans one by one (stopping early when asked), stamping each run's
  // conditions with measured_at_unix_seconds; records them in the state.
  std::vector<MeterRun> RunPlans(const Config& config, MeterKind kind);
  // Signs a report over the latest run of every meter; stores it unless it answers a nonce.
  Result<SignedReport> SignLatest(const Config& config, const std::optional<std::string>& nonce_hex);
  void Loop();
  double Uniform();

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
  std::mt19937_64 rng_;
  double heavy_cpu_seconds_ = 0;  // CPU spent in heavy cycles (excluded from the budget)
};

}  // namespace resmeter
