// SqlDatabase over PostgreSQL through libpq: text parameters and results
// (the server infers parameter types from the statement), one connection,
// reset once when the server dropped it.
#include <libpq-fe.h>

#include "collector/sql_database.h"

namespace resmeter {
namespace {

// Removes the password from a connection URI before it appears in a message.
std::string RedactUri(const std::string& uri) {
  const size_t scheme = uri.find("://");
  const size_t at = uri.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return uri;
  const size_t colon = uri.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon + 1) + "***" + uri.substr(at);
}

class PostgresDatabase final : public SqlDatabase {
 public:
  explicit PostgresDatabase(PGconn* conn) : conn_(conn) {}
  ~PostgresDatabase() override { PQfinish(conn_); }
  const char* dialect() const override { return "postgresql"; }
  int64_t changes() const override { return changes_; }

  Status Exec(const std::string& script) override {
    PGresult* r = Run([&] { return PQexec(conn_, script.c_str()); });
    const ExecStatusType st = PQresultStatus(r);
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Status::IOError("postgresql: " + Trim(err));
    return Status::Ok();
  }

  Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<SqlValue>& params) override {
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      if (std::holds_alternative<std::nullptr_t>(params[i])) {
        values[i] = nullptr;
      } else {
        text[i] = SqlValueText(params[i]);
        values[i] = text[i].c_str();
      }
    }
    PGresult* r = Run([&] {
      return PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                          nullptr, nullptr, 0);
    });
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      std::string err = PQresultErrorMessage(r);
      PQclear(r);
      return Status::IOError("postgresql: " + Trim(err));
    }
    std::vector<SqlRow> rows;
    const int n = PQntuples(r), cols = PQnfields(r);
    rows.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      SqlRow row(static_cast<size_t>(cols));
      for (int c = 0; c < cols; ++c) {
        if (!PQgetisnull(r, i, c))
          row[c] = std::string(PQgetvalue(r, i, c), static_cast<size_t>(PQgetlength(r, i, c)));
      }
      rows.push_back(std::move(row));
    }
    const char* affected = PQcmdTuples(r);
    changes_ = (affected && *affected) ? std::stoll(affected) : 0;
    PQclear(r);
    return rows;
  }

 private:
  // Runs `call`; when the connection is gone (server restart), resets it once and retries.
  template <typename F>
  PGresult* Run(F call) {
    PGresult* r = call();
    if (PQstatus(conn_) == CONNECTION_BAD) {
      PQclear(r);
      PQreset(conn_);
      r = call();
    }
    return r;
  }
  static std::string Trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    for (char& c : s)
      if (c == '\n') c = ' ';
    return s;
  }

  PGconn* conn_;
  int64_t changes_ = 0;
};

}  // namespace

Result<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& uri) {
  PGconn* conn = PQconnectdb(uri.c_str());
  if (!conn) return Status::IOError("postgresql: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    for (char& c : err)
      if (c == '\n') c = ' ';
    return Status::IOError(RedactUri(uri) + ": " + err);
  }
  // Notices (e.g. "relation already exists, skipping") are not errors; keep them off stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<SqlDatabase>(std::make_unique<PostgresDatabase>(conn));
}

}  // namespace resmeter
