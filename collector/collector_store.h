// CollectorStore: what a collector keeps about its fleet, in SQL (SQLite by
// default, PostgreSQL for several collectors; collector/sql_database.h).
//
// Tables (schema versioned in schema_migrations; Open applies what is
// missing, under a lock so collectors starting together migrate once):
//   agents              one row per admitted agent (its ueid at admission, URL)
//   identities          identity documents seen, per agent and kid
//   key_epochs          the epochs the audit accepted from each agent's ledger
//   statements          raw line + parsed fields, unique on (agent, seq)
//   statement_versions  a different line seen at a stored (agent, seq): forks
//                       and rolled-back histories, kept beside the first
//   reports             raw report tokens with their verdict line
//   findings, events    audit findings; unreachable, slow, fork, rollback,
//                       verdict changes ...
//   leases, collectors  which collector pulls which agent (PostgreSQL sharing)
//
// Ingestion is idempotent: a statement stored twice is stored once; a
// different statement at a stored (agent, seq) is kept in statement_versions
// and reported as a conflict (the caller records the fork event).
//
// Thread-safe: one connection behind a mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "collector/sql_database.h"
#include "core/result.h"

namespace resmeter {

// The schema version this build writes.
inline constexpr int kCollectorSchemaVersion = 1;

struct CollectorAgent {
  int64_t id = 0;
  std::string ueid;    // from the identity that admitted it
  std::string url;     // base URL of its HTTP API
  std::string source;  // "config" or "api"
  std::string kid;     // the admitting identity's key
  double admitted_unix_seconds = 0;
};

// One ledger line as stored.
struct StatementRecord {
  uint64_t seq = 0;
  std::string line;  // exact bytes, without the newline
  std::string line_sha256;
  std::string kind, kid;  // parsed fields ("" when the line did not parse)
  double start_unix_seconds = 0, end_unix_seconds = 0;
  double vcpu_delivered_seconds = 0, vcpu_stolen_seconds = 0, memory_gib_seconds = 0, gpu_seconds = 0;
  bool time_trusted = false;
  std::string chain_verdict;  // the audit's verdict on the line ("accepted", "bad_signature", ...)
};

enum class StatementIngest {
  kStored,         // new (agent, seq)
  kAlreadyStored,  // the same line was stored before
  kNewVersion,     // a different line at a stored (agent, seq): kept as a version (a fork)
  kKnownVersion,   // that different line was already kept
};

struct CollectorEvent {
  int64_t id = 0;
  std::string ueid;
  double at_unix_seconds = 0;
  std::string kind;      // unreachable, slow, bad_response, fork, rollback, finding, verdict ...
  std::string severity;  // error, warning, info
  uint64_t seq = 0;      // the statement concerned (0: none)
  std::string detail;
  std::string collector;  // which collector saw it
};

struct EpochRecord {
  uint64_t seq = 0;
  std::string kid, key_origin, evidence_type, detail;
  bool evidence_ok = false;
};

struct ReportRecord {
  double observed_unix_seconds = 0;
  std::string nonce, token, verdict_line, kid;
  bool accepted = false;
};

class CollectorStore {
 public:
  // `database`: "" or "sqlite:PATH" or a path (SQLite; "" means
  // <state_dir>/collector.sqlite), or a postgresql:// / postgres:// URI.
  static Result<std::unique_ptr<CollectorStore>> Open(const std::string& database,
                                                      const std::string& state_dir);

  const char* backend() const { return db_->dialect(); }
  Result<int> SchemaVersion();

  // Admits an agent (or updates its URL) and records the identity document.
  Result<CollectorAgent> AdmitAgent(const CollectorAgent& agent, const std::string& identity_document,
                                    const std::string& evidence_type, double now);
  Result<std::vector<CollectorAgent>> Agents();
  Result<std::optional<CollectorAgent>> AgentByUeid(const std::string& ueid);
  Result<std::optional<CollectorAgent>> AgentByUrl(const std::string& url);

  // Stores statements of one agent in one transaction; one outcome per record.
  Result<std::vector<StatementIngest>> StoreStatements(int64_t agent_id,
                                                       const std::vector<StatementRecord>& records,
                                                       double now);
  // Highest stored seq (0: none).
  Result<uint64_t> LastSeq(int64_t agent_id);
  // Stored lines with seq >= from, in seq order, at most `limit`.
  Result<std::vector<std::pair<uint64_t, std::string>>> StatementLines(int64_t agent_id, uint64_t from,
                                                                       size_t limit);
  Result<uint64_t> CountStatements(int64_t agent_id);
  Result<uint64_t> CountVersions(int64_t agent_id);

  Status StoreEpoch(int64_t agent_id, const EpochRecord& epoch);
  Status StoreReport(int64_t agent_id, const ReportRecord& report);
  Status StoreFinding(int64_t agent_id, const std::string& kind, const std::string& severity, uint64_t seq,
                      uint64_t seq_end, const std::string& message, double now);
  Status AddEvent(int64_t agent_id, const CollectorEvent& event);
  // Newest first, at most `limit`.
  Result<std::vector<CollectorEvent>> Events(int64_t agent_id, size_t limit);

  // Sharing the fleet: a collector's heartbeat, the live ones, and per-agent leases.
  Status Heartbeat(const std::string& collector, double now, double ttl_seconds);
  Result<std::vector<std::string>> LiveCollectors(double now);
  // True when `owner` holds the agent's lease until now + ttl afterwards
  // (taken when free, expired, or already its own).
  Result<bool> AcquireLease(int64_t agent_id, const std::string& owner, double now, double ttl_seconds);
  // Gives one lease back (the agent moved to another collector).
  Status ReleaseLease(int64_t agent_id, const std::string& owner);
  // Gives every lease back and leaves the live set (a clean stop).
  Status ReleaseLeases(const std::string& owner);

 private:
  explicit CollectorStore(std::unique_ptr<SqlDatabase> db) : db_(std::move(db)) {}
  Status Migrate();
  Result<std::optional<CollectorAgent>> AgentWhere(const std::string& column, const std::string& value);

  std::mutex mu_;
  std::unique_ptr<SqlDatabase> db_;
};

}  // namespace resmeter
