// Test support: a fleet of simulated agents on loopback for the collector's
// tests and bench. Each agent runs the real agent code paths: an ephemeral
// Ed25519 key (SigningKey), the LedgerWriter (accelerated periods, no fsync),
// the LedgerIndex pages and the agent's own HttpApi (/v1/identity,
// /v1/ledger, /v1/attest with reports signed by SignReport and "none"
// evidence from CollectEvidenceClaim), served by one HttpServer under
// /a/<index>. Misbehaving agents (from `misbehave_at_seconds` on, unless
// said otherwise):
//   kFork        a clone (new epoch key) writes a second history; each request gets one of the two
//   kRollback    restored to a snapshot taken at half time, silent for a while, then continues
//   kTamper      serves seq 3 with its delivered vCPU-seconds edited (from the start)
//   kDead        its own server stops
//   kSlowloris   its own socket dribbles one byte per 0.2 s, never finishing (from the start)
//   kGarbage     answers /v1/ledger with random bytes
//   kHuge        answers /v1/ledger with 24 MiB
//   kWrongContentType  answers /v1/ledger as text/html
//   kWrongKey    its page ends with one extra statement, linked to its head but signed by
//                a key no epoch declared (the provider's own key)
// Not part of the product.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"

namespace resmeter {

enum class SimBehavior {
  kHonest,
  kFork,
  kRollback,
  kTamper,
  kDead,
  kSlowloris,
  kGarbage,
  kHuge,
  kWrongContentType,
  kWrongKey
};
const char* SimBehaviorName(SimBehavior b);

struct AgentFleetSimOptions {
  std::string dir;  // ledgers live under it (created)
  size_t agents = 10;
  std::vector<SimBehavior> behaviors;  // per agent index; missing: honest
  double period_seconds = 0.2;         // one usage statement per agent per period
  double misbehave_at_seconds = 4;     // when the misbehaviours start
  double rollback_quiet_seconds = 2;   // a rolled-back agent's silence before it continues
  int http_threads = 8;
  // The agents' shared server's web config (agent/web_config.h): TLS, client
  // certificates, basic auth, as an agent serves them; empty: plain HTTP.
  std::string web_config_file;
};

class AgentFleetSim {
 public:
  explicit AgentFleetSim(AgentFleetSimOptions options);
  ~AgentFleetSim();
  Status Start();
  void Stop();
  // The agent's base URL (http[s]://127.0.0.1:PORT/a/<i>; https with a web config's TLS).
  std::string Url(size_t i) const;
  // Its identity document (as GET /v1/identity answers).
  nlohmann::json Identity(size_t i) const;
  SimBehavior behavior(size_t i) const;
  size_t size() const;
  // Statements appended so far, over all agents (honest histories only).
  uint64_t statements_written() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace resmeter
