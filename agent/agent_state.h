// AgentState: what the running agent knows, shared between the scheduler
// (writer), the usage ledger recorder, the HTTP API and the metrics
// exporter (readers): the latest run of every meter, the latest signed
// report, the time assessment, attestations served and the ledger head.
//
// Thread-safe: every method takes one internal mutex for a short copy; no
// method calls out while holding it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "meters/registry/runner.h"

namespace resmeter {

// The agent's identity: fixed for the life of the process.
struct AgentIdentity {
  std::string kid;   // RFC 7638 thumbprint of the signing key
  std::string alg;   // EdDSA / ES384
  std::string ueid;  // derived from kid
  nlohmann::json jwk;
  nlohmann::json evidence;  // the identity's evidence claim, bound to the key without a nonce
};

// The last run of one meter and counts of all its runs.
struct MeterRecord {
  MeterRun run;
  double measured_at_unix_seconds = 0;           // run.measured_at_unix_seconds
  uint64_t ok = 0, unavailable = 0, failed = 0;  // runs by status since start
};

// A signed report the agent produced.
struct SignedReport {
  std::string token;  // JWS compact
  nlohmann::json claims;
  std::string digest_hex;  // SHA-256 of the token bytes
  double issued_at_unix_seconds = 0;
};

// The ledger's head as the recorder last saw it.
struct LedgerHead {
  bool enabled = false;
  uint64_t last_seq = 0;
  uint64_t appended = 0;  // statements appended by this process
  uint64_t append_errors = 0;
  double last_append_unix_seconds = 0;
  std::string file;
};

// Counts of POST /v1/attest outcomes.
struct AttestCounts {
  uint64_t ok = 0, rate_limited = 0, busy = 0, rejected = 0, failed = 0;
  double last_unix_seconds = 0;  // the last successful one; 0: none
};

class AgentState {
 public:
  explicit AgentState(AgentIdentity identity, double started_unix_seconds)
      : identity_(std::move(identity)), started_(started_unix_seconds) {}
  AgentState(const AgentState&) = delete;
  AgentState& operator=(const AgentState&) = delete;

  const AgentIdentity& identity() const { return identity_; }
  double started_unix_seconds() const { return started_; }

  // Stores the runs of a cycle; each keeps its own measured_at, or gets
  // `wall` when it has none.
  void RecordRuns(const std::vector<MeterRun>& runs, double wall);
  // Every meter's last run, by name.
  std::map<std::string, MeterRecord> Meters() const;
  // The last runs of the heavy meters (for reports between heavy cycles).
  std::vector<MeterRun> LatestHeavyRuns() const;

  // The latest scheduled report (not attestations, which are per client).
  void SetLatestReport(SignedReport report);
  std::optional<SignedReport> LatestReport() const;

  // The latest `time` claim (from the latest report).
  nlohmann::json TimeClaim() const;

  // Records an attestation outcome: "ok", "rate_limited", "busy", "rejected", "failed".
  void RecordAttest(const std::string& outcome, double wall);
  AttestCounts Attests() const;

  void SetLedgerHead(const LedgerHead& head);
  LedgerHead Ledger() const;

  // Heavy cycles by trigger. When the next scheduled one is due is never
  // kept here: the schedule is secret so the host cannot boost just for it.
  void RecordHeavyCycle(const std::string& trigger);
  std::map<std::string, uint64_t> HeavyCycles() const;

  // Config reloads by outcome ("ok" / "error").
  void RecordReload(bool ok);
  std::map<std::string, uint64_t> Reloads() const;

  // The light interval in force (stretched when over the CPU budget).
  void SetEffectiveLightInterval(double seconds);
  double EffectiveLightInterval() const;

 private:
  const AgentIdentity identity_;
  const double started_;
  mutable std::mutex mu_;
  std::map<std::string, MeterRecord> meters_;
  std::optional<SignedReport> latest_;
  AttestCounts attests_;
  LedgerHead ledger_;
  std::map<std::string, uint64_t> heavy_cycles_;
  std::map<std::string, uint64_t> reloads_;
  double light_interval_ = 0;
};

}  // namespace resmeter
