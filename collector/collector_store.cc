#include "collector/collector_store.h"

#include <ctime>

#include "core/strings.h"

namespace resmeter {
namespace {

// Each migration is applied once, in order, and recorded in schema_migrations.
struct Migration {
  int version;
  const char* ddl;
};

constexpr Migration kMigrations[] = {
    {1, R"SQL(
CREATE TABLE agents (
  id {{ID}},
  ueid TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL,
  source TEXT NOT NULL,
  kid TEXT NOT NULL,
  admitted_unix_seconds {{REAL}} NOT NULL
);
CREATE TABLE identities (
  agent_id BIGINT NOT NULL REFERENCES agents(id),
  kid TEXT NOT NULL,
  document TEXT NOT NULL,
  evidence_type TEXT NOT NULL,
  observed_unix_seconds {{REAL}} NOT NULL,
  PRIMARY KEY (agent_id, kid)
);
CREATE TABLE key_epochs (
  agent_id BIGINT NOT NULL REFERENCES agents(id),
  seq BIGINT NOT NULL,
  kid TEXT NOT NULL,
  key_origin TEXT NOT NULL,
  evidence_type TEXT NOT NULL,
  evidence_ok INTEGER NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (agent_id, seq)
);
CREATE TABLE statements (
  agent_id BIGINT NOT NULL REFERENCES agents(id),
  seq BIGINT NOT NULL,
  line TEXT NOT NULL,
  line_sha256 TEXT NOT NULL,
  kind TEXT NOT NULL,
  kid TEXT NOT NULL,
  start_unix_seconds {{REAL}} NOT NULL,
  end_unix_seconds {{REAL}} NOT NULL,
  vcpu_delivered_seconds {{REAL}} NOT NULL,
  vcpu_stolen_seconds {{REAL}} NOT NULL,
  memory_gib_seconds {{REAL}} NOT NULL,
  gpu_seconds {{REAL}} NOT NULL,
  time_trusted INTEGER NOT NULL,
  chain_verdict TEXT NOT NULL,
  ingested_unix_seconds {{REAL}} NOT NULL,
  PRIMARY KEY (agent_id, seq)
);
CREATE TABLE statement_versions (
  agent_id BIGINT NOT NULL REFERENCES agents(id),
  seq BIGINT NOT NULL,
  line_sha256 TEXT NOT NULL,
  line TEXT NOT NULL,
  observed_unix_seconds {{REAL}} NOT NULL,
  PRIMARY KEY (agent_id, seq, line_sha256)
);
CREATE TABLE reports (
  id {{ID}},
  agent_id BIGINT NOT NULL REFERENCES agents(id),
  observed_unix_seconds {{REAL}} NOT NULL,
  nonce TEXT NOT NULL,
  kid TEXT NOT NULL,
  token TEXT NOT NULL,
  verdict TEXT NOT NULL,
  accepted INTEGER NOT NULL
);
CREATE TABLE findings (
  id {{ID}},
  agent_id BIGINT NOT NULL REFERENCES agents(id),
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  seq BIGINT NOT NULL,
  seq_end BIGINT NOT NULL,
  message TEXT NOT NULL,
  observed_unix_seconds {{REAL}} NOT NULL
);
CREATE TABLE events (
  id {{ID}},
  agent_id BIGINT NOT NULL REFERENCES agents(id),
  at_unix_seconds {{REAL}} NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  seq BIGINT NOT NULL,
  detail TEXT NOT NULL,
  collector TEXT NOT NULL
);
CREATE INDEX events_by_agent ON events (agent_id, id);
CREATE INDEX reports_by_agent ON reports (agent_id, id);
CREATE TABLE collectors (
  name TEXT PRIMARY KEY,
  expires_unix_seconds {{REAL}} NOT NULL
);
CREATE TABLE leases (
  agent_id BIGINT PRIMARY KEY REFERENCES agents(id),
  owner TEXT NOT NULL,
  expires_unix_seconds {{REAL}} NOT NULL
);
)SQL"},
};

int64_t ToInt(const std::optional<std::string>& v) { return v ? ParseInt64(*v).value_or(0) : 0; }
double ToDouble(const std::optional<std::string>& v) { return v ? ParseDouble(*v).value_or(0) : 0; }
std::string ToText(const std::optional<std::string>& v) { return v.value_or(""); }

CollectorAgent AgentFromRow(const SqlRow& r) {
  CollectorAgent a;
  a.id = ToInt(r[0]);
  a.ueid = ToText(r[1]);
  a.url = ToText(r[2]);
  a.source = ToText(r[3]);
  a.kid = ToText(r[4]);
  a.admitted_unix_seconds = ToDouble(r[5]);
  return a;
}

constexpr const char* kAgentColumns = "id, ueid, url, source, kid, admitted_unix_seconds";

}  // namespace

// A transaction that rolls back unless committed.
class SqlTransaction {
 public:
  explicit SqlTransaction(SqlDatabase& db) : db_(db) {
    begun_ = db_.Exec(std::string(db_.dialect()) == "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN");
  }
  ~SqlTransaction() {
    if (begun_.ok() && !done_) (void)db_.Exec("ROLLBACK");
  }
  const Status& begun() const { return begun_; }
  Status Commit() {
    done_ = true;
    return db_.Exec("COMMIT");
  }

 private:
  SqlDatabase& db_;
  Status begun_;
  bool done_ = false;
};

Result<std::unique_ptr<CollectorStore>> CollectorStore::Open(const std::string& database,
                                                             const std::string& state_dir) {
  std::unique_ptr<SqlDatabase> db;
  if (StartsWith(database, "postgresql://") || StartsWith(database, "postgres://")) {
    RESMETER_ASSIGN_OR_RETURN(db, OpenPostgresDatabase(database));
  } else {
    std::string path = StartsWith(database, "sqlite:") ? database.substr(7) : database;
    if (path.empty()) path = state_dir + "/collector.sqlite";
    RESMETER_ASSIGN_OR_RETURN(db, OpenSqliteDatabase(path));
  }
  std::unique_ptr<CollectorStore> store(new CollectorStore(std::move(db)));
  RESMETER_RETURN_IF_ERROR(store->Migrate());
  return store;
}

Status CollectorStore::Migrate() {
  std::lock_guard<std::mutex> lock(mu_);
  const bool pg = std::string(db_->dialect()) == "postgresql";
  // Collectors starting together on one PostgreSQL migrate one at a time.
  if (pg) RESMETER_RETURN_IF_ERROR(db_->Exec("SELECT pg_advisory_lock(727100)"));
  auto body = [&]() -> Status {
    RESMETER_RETURN_IF_ERROR(
        db_->Exec(db_->Dialect("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                               "applied_unix_seconds {{REAL}} NOT NULL)")));
    RESMETER_ASSIGN_OR_RETURN(auto rows,
                              db_->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    const int64_t have = rows.empty() ? 0 : ToInt(rows[0][0]);
    if (have > kCollectorSchemaVersion) {
      return Status::InvalidArgument("the collector database has schema version " + std::to_string(have) +
                                     ", newer than this build's " + std::to_string(kCollectorSchemaVersion) +
                                     ": upgrade resmeter");
    }
    for (const Migration& m : kMigrations) {
      if (m.version <= have) continue;
      SqlTransaction tx(*db_);
      RESMETER_RETURN_IF_ERROR(tx.begun());
      RESMETER_RETURN_IF_ERROR(
          db_->Exec(db_->Dialect(m.ddl)).WithContext("migration " + std::to_string(m.version)));
      RESMETER_RETURN_IF_ERROR(
          db_->Query("INSERT INTO schema_migrations (version, applied_unix_seconds) VALUES ($1, $2)",
                     {int64_t{m.version}, static_cast<double>(time(nullptr))})
              .status());
      RESMETER_RETURN_IF_ERROR(tx.Commit());
    }
    return Status::Ok();
  };
  Status s = body();
  if (pg) (void)db_->Exec("SELECT pg_advisory_unlock(727100)");
  return s;
}

Result<int> CollectorStore::SchemaVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  RESMETER_ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return static_cast<int>(rows.empty() ? 0 : ToInt(rows[0][0]));
}

Result<CollectorAgent> CollectorStore::AdmitAgent(const CollectorAgent& agent,
                                                  const std::string& identity_document,
                                                  const std::string& evidence_type, double now) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction tx(*db_);
  RESMETER_RETURN_IF_ERROR(tx.begun());
  RESMETER_RETURN_IF_ERROR(
      db_->Query(
             "INSERT INTO agents (ueid, url, source, kid, admitted_unix_seconds) VALUES ($1, $2, $3, $4, $5) "
             "ON CONFLICT (ueid) DO UPDATE SET url = excluded.url",
             {agent.ueid, agent.url, agent.source, agent.kid, now})
          .status());
  RESMETER_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query(std::string("SELECT ") + kAgentColumns + " FROM agents WHERE ueid = $1", {agent.ueid}));
  if (rows.empty()) return Status::IOError("agent row vanished after insert");
  CollectorAgent stored = AgentFromRow(rows[0]);
  RESMETER_RETURN_IF_ERROR(
      db_->Query("INSERT INTO identities (agent_id, kid, document, evidence_type, observed_unix_seconds) "
                 "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent_id, kid) DO NOTHING",
                 {stored.id, agent.kid, identity_document, evidence_type, now})
          .status());
  RESMETER_RETURN_IF_ERROR(tx.Commit());
  return stored;
}

Result<std::vector<CollectorAgent>> CollectorStore::Agents() {
  std::lock_guard<std::mutex> lock(mu_);
  RESMETER_ASSIGN_OR_RETURN(auto rows,
                            db_->Query(std::string("SELECT ") + kAgentColumns + " FROM agents ORDER BY id"));
  std::vector<CollectorAgent> out;
  for (const auto& r : rows) out.push_back(AgentFromRow(r));
  return out;
}

Result<std::optional<CollectorAgent>> CollectorStore::AgentWhere(const std::string& column,
                                                                 const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  RESMETER_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query(std::string("SELECT ") + kAgentColumns + " FROM agents WHERE " + column + " = $1", {value}));
  if (rows.empty()) return std::optional<CollectorAgent>();
  return std::optional<CollectorAgent>(AgentFromRow(rows[0]));
}

Result<std::optional<CollectorAgent>> CollectorStore::AgentByUeid(const std::string& ueid) {
  return AgentWhere("ueid", ueid);
}
Result<std::optional<CollectorAgent>> CollectorStore::AgentByUrl(const std::string& url) {
  return AgentWhere("url", url);
}

Result<std::vector<StatementIngest>> CollectorStore::StoreStatements(
    int64_t agent_id, const std::vector<StatementRecord>& records, double now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StatementIngest> out;
  out.reserve(records.size());
  SqlTransaction tx(*db_);
  RESMETER_RETURN_IF_ERROR(tx.begun());
  for (const StatementRecord& r : records) {
    const int64_t seq = static_cast<int64_t>(r.seq);
    RESMETER_RETURN_IF_ERROR(
        db_->Query("INSERT INTO statements (agent_id, seq, line, line_sha256, kind, kid, start_unix_seconds, "
                   "end_unix_seconds, vcpu_delivered_seconds, vcpu_stolen_seconds, memory_gib_seconds, "
                   "gpu_seconds, "
                   "time_trusted, chain_verdict, ingested_unix_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                   "$8, $9, "
                   "$10, $11, $12, $13, $14, $15) ON CONFLICT (agent_id, seq) DO NOTHING",
                   {agent_id, seq, r.line, r.line_sha256, r.kind, r.kid, r.start_unix_seconds,
                    r.end_unix_seconds, r.vcpu_delivered_seconds, r.vcpu_stolen_seconds, r.memory_gib_seconds,
                    r.gpu_seconds, int64_t{r.time_trusted ? 1 : 0}, r.chain_verdict, now})
            .status());
    if (db_->changes() == 1) {
      out.push_back(StatementIngest::kStored);
      continue;
    }
    RESMETER_ASSIGN_OR_RETURN(
        auto rows,
        db_->Query("SELECT line_sha256 FROM statements WHERE agent_id = $1 AND seq = $2", {agent_id, seq}));
    if (!rows.empty() && ToText(rows[0][0]) == r.line_sha256) {
      out.push_back(StatementIngest::kAlreadyStored);
      continue;
    }
    RESMETER_RETURN_IF_ERROR(
        db_->Query("INSERT INTO statement_versions (agent_id, seq, line_sha256, line, observed_unix_seconds) "
                   "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent_id, seq, line_sha256) DO NOTHING",
                   {agent_id, seq, r.line_sha256, r.line, now})
            .status());
    out.push_back(db_->changes() == 1 ? StatementIngest::kNewVersion : StatementIngest::kKnownVersion);
  }
  RESMETER_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<uint64_t> CollectorStore::LastSeq(int64_t agent_id) {
  std::lock_guard<std::mutex> lock(mu_);
  RESMETER_ASSIGN_OR_RETURN(
      auto rows, db_->Query("SELECT COALESCE(MAX(seq), 0) FROM statements WHERE agent_id = $1", {agent_id}));
  return static_cast<uint64_t>(rows.empty() ? 0 : ToInt(rows[0][0]));
}

Result<std::vector<std::pair<uint64_t, std::string>>> CollectorStore::StatementLines(int64_t agent_id,
                                                                                     uint64_t from,
                                                                                     size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  RESMETER_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query("SELECT seq, line FROM statements WHERE agent_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
                 {agent_id, static_cast<int64_t>(from), static_cast<int64_t>(limit)}));
  std::vector<std::pair<uint64_t, std::string>> out;
  out.reserve(rows.size());
  for (auto& r : rows) out.emplace_back(static_cast<uint64_t>(ToInt(r[0])), ToText(r[1]));
  return out;
}

Result<uint64_t> CollectorStore::CountStatements(int64_t agent_id) {
  std::lock_guard<std::mutex> lock(mu_);
  RESMETER_ASSIGN_OR_RETURN(auto rows,
                            db_->Query("SELECT COUNT(*) FROM statements WHERE agent_id = $1", {agent_id}));
  return static_cast<uint64_t>(rows.empty() ? 0 : ToInt(rows[0][0]));
}

Result<uint64_t> CollectorStore::CountVersions(int64_t agent_id) {
  std::lock_guard<std::mutex> lock(mu_);
  RESMETER_ASSIGN_OR_RETURN(
      auto rows, db_->Query("SELECT COUNT(*) FROM statement_versions WHERE agent_id = $1", {agent_id}));
  return static_cast<uint64_t>(rows.empty() ? 0 : ToInt(rows[0][0]));
}

Status CollectorStore::StoreEpoch(int64_t agent_id, const EpochRecord& e) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_
      ->Query(
          "INSERT INTO key_epochs (agent_id, seq, kid, key_origin, evidence_type, evidence_ok, detail) "
          "VALUES "
          "($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (agent_id, seq) DO NOTHING",
          {agent_id, static_cast<int64_t>(e.seq), e.kid, e.key_origin, e.evidence_type,
           int64_t{e.evidence_ok ? 1 : 0}, e.detail})
      .status();
}

Status CollectorStore::StoreReport(int64_t agent_id, const ReportRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_
      ->Query(
          "INSERT INTO reports (agent_id, observed_unix_seconds, nonce, kid, token, verdict, accepted) "
          "VALUES "
          "($1, $2, $3, $4, $5, $6, $7)",
          {agent_id, r.observed_unix_seconds, r.nonce, r.kid, r.token, r.verdict_line,
           int64_t{r.accepted ? 1 : 0}})
      .status();
}

Status CollectorStore::StoreFinding(int64_t agent_id, const std::string& kind, const std::string& severity,
                                    uint64_t seq, uint64_t seq_end, const std::string& message, double now) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_
      ->Query(
          "INSERT INTO findings (agent_id, kind, severity, seq, seq_end, message, observed_unix_seconds) "
          "VALUES "
          "($1, $2, $3, $4, $5, $6, $7)",
          {agent_id, kind, severity, static_cast<int64_t>(seq), static_cast<int64_t>(seq_end), message, now})
      .status();
}

Status CollectorStore::AddEvent(int64_t agent_id, const CollectorEvent& e) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_
      ->Query(
          "INSERT INTO events (agent_id, at_unix_seconds, kind, severity, seq, detail, collector) VALUES "
          "($1, $2, "
          "$3, $4, $5, $6, $7)",
          {agent_id, e.at_unix_seconds, e.kind, e.severity, static_cast<int64_t>(e.seq), e.detail,
           e.collector})
      .status();
}

Result<std::vector<CollectorEvent>> CollectorStore::Events(int64_t agent_id, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  RESMETER_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query("SELECT e.id, a.ueid, e.at_unix_seconds, e.kind, e.severity, e.seq, e.detail, e.collector "
                 "FROM events "
                 "e JOIN agents a ON a.id = e.agent_id WHERE e.agent_id = $1 ORDER BY e.id DESC LIMIT $2",
                 {agent_id, static_cast<int64_t>(limit)}));
  std::vector<CollectorEvent> out;
  for (const auto& r : rows) {
    CollectorEvent e;
    e.id = ToInt(r[0]);
    e.ueid = ToText(r[1]);
    e.at_unix_seconds = ToDouble(r[2]);
    e.kind = ToText(r[3]);
    e.severity = ToText(r[4]);
    e.seq = static_cast<uint64_t>(ToInt(r[5]));
    e.detail = ToText(r[6]);
    e.collector = ToText(r[7]);
    out.push_back(std::move(e));
  }
  return out;
}

Status CollectorStore::Heartbeat(const std::string& collector, double now, double ttl_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_
      ->Query(
          "INSERT INTO collectors (name, expires_unix_seconds) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE "
          "SET "
          "expires_unix_seconds = excluded.expires_unix_seconds",
          {collector, now + ttl_seconds})
      .status();
}

Result<std::vector<std::string>> CollectorStore::LiveCollectors(double now) {
  std::lock_guard<std::mutex> lock(mu_);
  RESMETER_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query("SELECT name FROM collectors WHERE expires_unix_seconds >= $1 ORDER BY name", {now}));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(ToText(r[0]));
  return out;
}

Result<bool> CollectorStore::AcquireLease(int64_t agent_id, const std::string& owner, double now,
                                          double ttl_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  RESMETER_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query(
          "INSERT INTO leases (agent_id, owner, expires_unix_seconds) VALUES ($1, $2, $3) ON CONFLICT "
          "(agent_id) "
          "DO UPDATE SET owner = excluded.owner, expires_unix_seconds = excluded.expires_unix_seconds WHERE "
          "leases.owner = excluded.owner OR leases.expires_unix_seconds < $4 RETURNING owner",
          {agent_id, owner, now + ttl_seconds, now}));
  return !rows.empty();
}

Status CollectorStore::ReleaseLease(int64_t agent_id, const std::string& owner) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->Query("DELETE FROM leases WHERE agent_id = $1 AND owner = $2", {agent_id, owner}).status();
}

Status CollectorStore::ReleaseLeases(const std::string& owner) {
  std::lock_guard<std::mutex> lock(mu_);
  RESMETER_RETURN_IF_ERROR(db_->Query("DELETE FROM leases WHERE owner = $1", {owner}).status());
  return db_->Query("DELETE FROM collectors WHERE name = $1", {owner}).status();
}

}  // namespace resmeter
