// SqlDatabase: the one narrow interface the collector's store speaks to a
// database through, with two implementations: SQLite (embedded, WAL; the
// default, a file in the collector's state directory) and PostgreSQL (libpq;
// when collector.database is a postgresql:// URL, so several collectors can
// share one database).
//
// Statements use PostgreSQL's $1..$N placeholders; the SQLite side rewrites
// them to ?1..?N, which SQLite accepts with the same meaning. DDL uses a few
// dialect words ({{ID}}, {{REAL}}) that Dialect() expands. Values travel as
// SqlValue and come back as text (NULL as nullopt); doubles are written with
// 17 significant digits so they round-trip.
//
// A SqlDatabase is one connection: not thread-safe; the store serializes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/result.h"

namespace resmeter {

using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;
using SqlRow = std::vector<std::optional<std::string>>;

class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;
  // "sqlite" or "postgresql".
  virtual const char* dialect() const = 0;
  // Runs one statement with parameters; returns its rows (RETURNING included).
  virtual Result<std::vector<SqlRow>> Query(const std::string& sql,
                                            const std::vector<SqlValue>& params = {}) = 0;
  // Runs a script of statements without parameters (DDL, BEGIN/COMMIT).
  virtual Status Exec(const std::string& script) = 0;
  // Rows the last Query changed (INSERT/UPDATE/DELETE).
  virtual int64_t changes() const = 0;

  // Expands the dialect words of a DDL script.
  std::string Dialect(const std::string& ddl) const;
};

// Opens (creates) the SQLite database file at `path` in WAL mode.
Result<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(const std::string& path);
// Connects to PostgreSQL with a libpq connection URI (postgresql://...).
Result<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& uri);

// A parameter as text: integers in decimal, doubles with 17 significant digits.
std::string SqlValueText(const SqlValue& v);

}  // namespace resmeter
