#include "collector/collector.h"

#include <openssl/sha.h>

#include <algorithm>
#include <functional>
#include <random>

#include "core/env.h"
#include "core/untrusted_json.h"
#include "jose/jwk.h"
#include "report/report.h"

namespace resmeter {
namespace {

double Wall() { return DefaultEnv()->WallSeconds(); }

// Rendezvous weight of (collector, agent): the agent belongs to the live
// collector with the highest weight, so a collector leaving moves only its own agents.
uint64_t Weight(const std::string& collector, const std::string& ueid) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  const std::string key = collector + "\n" + ueid;
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), md);
  uint64_t w = 0;
  for (int i = 0; i < 8; ++i) w = (w << 8) | md[i];
  return w;
}

thread_local std::mt19937_64 rng{std::random_device{}()};

}  // namespace

Collector::Collector(std::shared_ptr<const CollectorSettings> settings, std::unique_ptr<CollectorStore> store)
    : settings_(std::move(settings)), store_(std::move(store)) {}

Collector::~Collector() { Stop(true); }

double Collector::NextDue(double interval) const {
  std::uniform_real_distribution<double> u(1 - settings_->jitter_ratio, 1 + settings_->jitter_ratio);
  return Wall() + interval * u(rng);
}

Result<CollectorAgent> Collector::Admit(const nlohmann::json& identity, const std::string& url,
                                        const std::string& source) {
  RESMETER_RETURN_IF_ERROR(ParseHttpUrl(url).status());
  if (!identity.is_object()) return Status::InvalidArgument("identity document is not a JSON object");
  auto jwk = identity.find("jwk");
  if (jwk == identity.end() || !jwk->is_object())
    return Status::InvalidArgument("identity document has no 'jwk' object");
  auto evidence = identity.find("evidence");
  if (evidence == identity.end() || !evidence->is_object())
    return Status::InvalidArgument("identity document has no 'evidence' object");
  RESMETER_ASSIGN_OR_RETURN(auto key, PublicKey::FromJwk(*jwk));
  const std::string origin = identity.value("key_origin", std::string());
  const auto& origins = settings_->accepted_key_origins;
  if (std::find(origins.begin(), origins.end(), origin) == origins.end())
    return Status::VerifyFailed("identity key_origin '" + origin.substr(0, 40) +
                                "' is not accepted by the policy");
  EvidenceVerifyOptions ev = settings_->evidence;
  ev.allow_none = settings_->allow_dev_evidence;
  auto verdict = VerifyIdentityDocument(identity, std::nullopt, ev);
  if (!verdict.ok()) return Status::VerifyFailed("identity evidence rejected: " + verdict.status().message());
  CollectorAgent a;
  a.kid = key->thumbprint();
  a.ueid = UeidForThumbprint(a.kid);
  if (identity.contains("ueid") && identity["ueid"] != a.ueid)
    return Status::VerifyFailed("identity 'ueid' is not the one derived from its key");
  a.url = url;
  a.source = source;
  RESMETER_ASSIGN_OR_RETURN(CollectorAgent stored,
                            store_->AdmitAgent(a, identity.dump(), verdict->type, Wall()));
  cv_.notify_all();
  return stored;
}

Result<CollectorAgent> Collector::AdmitUrl(const std::string& url, const std::string& source) {
  RESMETER_ASSIGN_OR_RETURN(auto resp, HttpFetch(url, "GET", "/v1/identity", "", "", settings_->fetch));
  if (resp.status != 200)
    return Status::IOError(url + "/v1/identity answered HTTP " + std::to_string(resp.status));
  nlohmann::json doc = ParseUntrustedJsonOrDiscarded(resp.body);
  if (doc.is_discarded()) return Status::InvalidArgument(url + "/v1/identity is not JSON");
  return Admit(doc, url, source);
}

Status Collector::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return Status::Ok();
    started_ = true;
    stopping_ = false;
  }
  RESMETER_ASSIGN_OR_RETURN(auto known, store_->Agents());
  for (const auto& url : settings_->agent_urls) {
    const bool have = std::any_of(known.begin(), known.end(), [&](const auto& a) { return a.url == url; });
    if (!have) pending_urls_.insert(url);
  }
  RESMETER_RETURN_IF_ERROR(Rebalance());
  for (int i = 0; i < std::max(1, settings_->workers); ++i) workers_.emplace_back([this] { WorkerLoop(); });
  lease_thread_ = std::thread([this] { LeaseLoop(); });
  return Status::Ok();
}

void Collector::Stop(bool release) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) return;
    stopping_ = true;
    started_ = false;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  if (lease_thread_.joinable()) lease_thread_.join();
  if (release) (void)store_->ReleaseLeases(settings_->name);
  std::lock_guard<std::mutex> lock(mu_);
  held_.clear();
  queue_.clear();
}

void Collector::ScheduleNew(int64_t agent_id) {
  std::uniform_real_distribution<double> spread(0, 1);
  const double now = Wall();
  // The first pull soon, spread over a fraction of the interval so a fleet does not start in lockstep.
  queue_.push_back({now + settings_->pull_interval_seconds * 0.25 * spread(rng), agent_id, TaskKind::kPull});
  std::push_heap(queue_.begin(), queue_.end(), std::greater<>());
  if (settings_->attest_interval_seconds > 0) {
    queue_.push_back(
        {now + settings_->attest_interval_seconds * spread(rng), agent_id, TaskKind::kChallenge});
    std::push_heap(queue_.begin(), queue_.end(), std::greater<>());
  }
}

Status Collector::Rebalance() {
  const double now = Wall();
  // Configured agents not admitted yet (unreachable at start): try again.
  std::set<std::string> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending = pending_urls_;
  }
  for (const auto& url : pending) {
    if (AdmitUrl(url, "config").ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      pending_urls_.erase(url);
    }
  }
  const double ttl = settings_->lease_ttl_seconds;
  RESMETER_RETURN_IF_ERROR(store_->Heartbeat(settings_->name, now, ttl));
  RESMETER_ASSIGN_OR_RETURN(auto live, store_->LiveCollectors(now));
  if (std::find(live.begin(), live.end(), settings_->name) == live.end()) live.push_back(settings_->name);
  RESMETER_ASSIGN_OR_RETURN(auto agents, store_->Agents());
  std::set<int64_t> mine;
  for (const auto& a : agents) {
    std::string owner;
    uint64_t best = 0;
    for (const auto& c : live) {
      const uint64_t w = Weight(c, a.ueid);
      if (owner.empty() || w > best) {
        best = w;
        owner = c;
      }
    }
    if (owner != settings_->name) continue;
    RESMETER_ASSIGN_OR_RETURN(bool got, store_->AcquireLease(a.id, settings_->name, now, ttl));
    if (!got) continue;  // the previous owner's lease has not expired yet
    mine.insert(a.id);
    std::lock_guard<std::mutex> lock(mu_);
    if (!held_.count(a.id)) {
      held_[a.id].puller = std::make_shared<AgentPuller>(a, settings_, store_.get());
      ScheduleNew(a.id);
    }
  }
  std::vector<int64_t> released;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = held_.begin(); it != held_.end();) {
      if (mine.count(it->first)) {
        ++it;
        continue;
      }
      // No longer ours (a collector joined): let it go; a running task finishes first.
      released.push_back(it->first);
      if (it->second.busy) {
        it->second.dropped = true;
        ++it;
      } else {
        it = held_.erase(it);
      }
    }
  }
  for (int64_t id : released) (void)store_->ReleaseLease(id, settings_->name);
  cv_.notify_all();
  return Status::Ok();
}

void Collector::LeaseLoop() {
  const double period = std::max(0.2, settings_->lease_ttl_seconds / 3);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::duration<double>(period), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    (void)Rebalance();  // a database outage is retried at the next round
    lock.lock();
  }
}

void Collector::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      cv_.wait_for(lock, std::chrono::seconds(1));
      continue;
    }
    const double now = Wall();
    if (queue_.front().due > now) {
      cv_.wait_for(lock, std::chrono::duration<double>(std::min(1.0, queue_.front().due - now)));
      continue;
    }
    std::pop_heap(queue_.begin(), queue_.end(), std::greater<>());
    Task task = queue_.back();
    queue_.pop_back();
    auto it = held_.find(task.agent_id);
    if (it == held_.end() || it->second.dropped) continue;  // no longer ours: the task ends here
    if (it->second.busy) {  // the other task of this agent is running: shortly after it
      queue_.push_back({now + 0.05, task.agent_id, task.kind});
      std::push_heap(queue_.begin(), queue_.end(), std::greater<>());
      continue;
    }
    it->second.busy = true;
    auto puller = it->second.puller;
    lock.unlock();
    Status s = task.kind == TaskKind::kPull ? puller->Pull() : puller->Challenge();
    (void)s;  // store errors: retried at the next task
    lock.lock();
    it = held_.find(task.agent_id);
    if (it == held_.end()) continue;
    it->second.busy = false;
    if (it->second.dropped) {
      held_.erase(it);
      continue;
    }
    if (task.kind == TaskKind::kPull) {
      if (round_seen_.empty()) round_start_ = now;
      round_seen_.insert(task.agent_id);
      if (round_seen_.size() >= held_.size()) {
        last_round_seconds_ = Wall() - round_start_;
        round_seen_.clear();
      }
    }
    const double interval =
        task.kind == TaskKind::kPull ? settings_->pull_interval_seconds : settings_->attest_interval_seconds;
    queue_.push_back({NextDue(interval), task.agent_id, task.kind});
    std::push_heap(queue_.begin(), queue_.end(), std::greater<>());
    cv_.notify_one();
  }
}

std::vector<AgentSnapshot> Collector::Snapshots() const {
  std::vector<std::shared_ptr<AgentPuller>> pullers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, h] : held_) pullers.push_back(h.puller);
  }
  std::vector<AgentSnapshot> out;
  for (const auto& p : pullers) out.push_back(p->Snapshot());
  return out;
}

std::optional<AgentSnapshot> Collector::SnapshotOf(const std::string& ueid) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, h] : held_)
    if (h.puller->agent().ueid == ueid) return h.puller->Snapshot();
  return std::nullopt;
}

}  // namespace resmeter
