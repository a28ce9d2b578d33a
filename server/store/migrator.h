// Applies embedded schema migrations. The schema version is the number of migrations applied
// (SQLite: `PRAGMA user_version`; PostgreSQL: the table de_schema_version); each migration runs
// in its own write transaction together with the version bump, so schedulers starting at once
// on one PostgreSQL apply each migration exactly once. A database newer than this binary is
// refused.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "server/store/db.h"
#include "server/store/migrations.h"

namespace de::store {

absl::StatusOr<int> SchemaVersion(Db* db);

// Brings `db` up to `migrations.size()`. Migration names must be NNNN_*.sql numbered 1..N.
absl::Status Migrate(Db* db, const std::vector<Migration>& migrations);

}  // namespace de::store
