// Schema migrations embedded into the binary, one list per dialect: migrations/NNNN_name.sql
// (SQLite) and migrations/postgres/NNNN_name.sql (PostgreSQL), in name order. Both lists hold the
// same migrations under the same names, so a schema version means one schema on either store.
#pragma once
#include <string>
#include <vector>

#include "server/store/db.h"

namespace de::store {
struct Migration {
  std::string name;  // file name, e.g. "0001_init.sql"
  std::string sql;
};
const std::vector<Migration>& EmbeddedSqliteMigrations();
const std::vector<Migration>& EmbeddedPostgresMigrations();
// The list for `dialect`.
inline const std::vector<Migration>& EmbeddedMigrations(Dialect dialect) {
  return dialect == Dialect::kPostgres ? EmbeddedPostgresMigrations() : EmbeddedSqliteMigrations();
}
// The SQLite list (what tests that build a database by hand use).
inline const std::vector<Migration>& EmbeddedMigrations() { return EmbeddedSqliteMigrations(); }
}  // namespace de::store
