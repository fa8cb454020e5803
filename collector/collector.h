// Collector: the `resmeter collector` daemon. It keeps a fleet of agents
// (admitted from the config's URLs through their /v1/identity, or by
// POST /v1/agents with an identity document, whose evidence must verify
// under the collector's policy), pulls and audits each agent's ledger and
// challenges it on its own jittered schedule (collector/agent_puller.h) on a
// pool of workers, so a slow or hostile agent holds one worker for at most
// the fetch deadline and never stalls the others.
//
// Several collectors on one PostgreSQL split the fleet: each heartbeats in
// `collectors`, computes the owner of every agent by rendezvous hashing over
// the live collectors, and pulls only agents whose lease it holds. When one
// stops (or dies), its heartbeat and leases expire after lease_ttl_seconds
// and the others take its agents over, rebuilding their audit from the
// stored statements; storage is idempotent on (agent, seq), so a hand-over
// neither loses nor duplicates a statement.
//
// HTTP (collector/collector_api.h): /metrics, /v1/agents... Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "collector/agent_puller.h"
#include "collector/collector_settings.h"
#include "collector/collector_store.h"

namespace resmeter {

class Collector {
 public:
  Collector(std::shared_ptr<const CollectorSettings> settings, std::unique_ptr<CollectorStore> store);
  ~Collector();  // stops
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Admits the configured agents that answer, takes leases and starts the workers.
  Status Start();
  // Stops the workers and, when `release`, gives the leases back at once
  // (a clean stop; a crash leaves them to expire).
  void Stop(bool release = true);

  // Verifies an identity document against the policy and admits its agent at `url`.
  Result<CollectorAgent> Admit(const nlohmann::json& identity, const std::string& url,
                               const std::string& source);
  // Fetches `url`/v1/identity and admits it.
  Result<CollectorAgent> AdmitUrl(const std::string& url, const std::string& source);

  // Agents this collector follows now, with their state.
  std::vector<AgentSnapshot> Snapshots() const;
  std::optional<AgentSnapshot> SnapshotOf(const std::string& ueid) const;
  CollectorStore& store() { return *store_; }
  const CollectorSettings& settings() const { return *settings_; }
  // Runs one ownership round now (tests): heartbeat, leases, new agents.
  Status Rebalance();
  // Seconds of the last full round over every held agent's pull (0: none yet).
  double last_round_seconds() const { return last_round_seconds_.load(); }

 private:
  enum class TaskKind { kPull, kChallenge };
  struct Task {
    double due;
    int64_t agent_id;
    TaskKind kind;
    bool operator>(const Task& o) const { return due > o.due; }
  };
  struct Held {
    std::shared_ptr<AgentPuller> puller;
    bool busy = false;
    bool dropped = false;
  };
  void WorkerLoop();
  void LeaseLoop();
  double NextDue(double interval) const;
  // Schedules the first pull (soon, spread) and challenge of a newly held agent. REQUIRES mu_.
  void ScheduleNew(int64_t agent_id);

  std::shared_ptr<const CollectorSettings> settings_;
  std::unique_ptr<CollectorStore> store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Held> held_;
  std::vector<Task> queue_;             // min-heap on due
  std::set<std::string> pending_urls_;  // configured agents not admitted yet
  std::vector<std::thread> workers_;
  std::thread lease_thread_;
  bool stopping_ = false;
  bool started_ = false;
  std::atomic<double> last_round_seconds_{0};
  double round_start_ = 0;
  std::set<int64_t> round_seen_;
};

}  // namespace resmeter
