// Applies embedded schema migrations. `PRAGMA user_version` is the schema version (the number of
// migrations applied); each migration runs in its own transaction together with the version bump.
// A database newer than this binary is refused.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "server/store/migrations.h"
#include "server/store/sqlite.h"

namespace de::store {

absl::StatusOr<int> SchemaVersion(Db* db);

// Brings `db` up to `migrations.size()`. Migration names must be NNNN_*.sql numbered 1..N.
absl::Status Migrate(Db* db, const std::vector<Migration>& migrations);

}  // namespace de::store
