// SqlDatabase over SQLite 3: one connection, WAL journal, foreign keys on,
// a busy timeout so a second process (a CLI reading the file) waits instead
// of failing.
#include <sqlite3.h>

#include <cctype>
#include <cstdio>
#include <map>

#include "collector/sql_database.h"

namespace resmeter {
namespace {

// "$3" -> "?3": SQLite's numbered parameters mean the same.
std::string ToSqliteParams(const std::string& sql) {
  std::string out = sql;
  bool quoted = false;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\'') quoted = !quoted;
    if (!quoted && out[i] == '$' && i + 1 < out.size() &&
        std::isdigit(static_cast<unsigned char>(out[i + 1])))
      out[i] = '?';
  }
  return out;
}

class SqliteDatabase final : public SqlDatabase {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  ~SqliteDatabase() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  const char* dialect() const override { return "sqlite"; }
  int64_t changes() const override { return changes_; }

  Status Exec(const std::string& script) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, script.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      return Status::IOError("sqlite: " + msg);
    }
    return Status::Ok();
  }

  Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* stmt = nullptr;
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      stmt = it->second;
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    } else {
      const std::string translated = ToSqliteParams(sql);
      if (sqlite3_prepare_v2(db_, translated.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
        return Status::IOError("sqlite: " + std::string(sqlite3_errmsg(db_)) + " in: " + sql.substr(0, 80));
      cache_.emplace(sql, stmt);
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int at = static_cast<int>(i + 1);
      const SqlValue& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::nullptr_t>(v)) {
        rc = sqlite3_bind_null(stmt, at);
      } else if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, at, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, at, *d);
      } else {
        const auto& s = std::get<std::string>(v);
        rc = sqlite3_bind_text(stmt, at, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      }
      if (rc != SQLITE_OK) return Status::IOError("sqlite bind: " + std::string(sqlite3_errmsg(db_)));
    }
    std::vector<SqlRow> rows;
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        std::string msg = sqlite3_errmsg(db_);
        sqlite3_reset(stmt);
        return Status::IOError("sqlite: " + msg);
      }
      const int n = sqlite3_column_count(stmt);
      SqlRow row(static_cast<size_t>(n));
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL:
            break;
          case SQLITE_FLOAT:
            row[c] = SqlValueText(sqlite3_column_double(stmt, c));
            break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            row[c] = std::string(text ? text : "", static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
          }
        }
      }
      rows.push_back(std::move(row));
    }
    changes_ = sqlite3_changes(db_);
    sqlite3_reset(stmt);
    return rows;
  }

 private:
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> cache_;  // prepared once per statement text
  int64_t changes_ = 0;
};

}  // namespace

Result<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::IOError(path + ": " + msg);
  }
  auto out = std::make_unique<SqliteDatabase>(db);
  sqlite3_busy_timeout(db, 10000);
  RESMETER_RETURN_IF_ERROR(
      out->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  return std::unique_ptr<SqlDatabase>(std::move(out));
}

}  // namespace resmeter
