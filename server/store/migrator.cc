#include "server/store/migrator.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace de::store {

absl::StatusOr<int> SchemaVersion(Db* db) { return db->SchemaVersion(); }

absl::Status Migrate(Db* db, const std::vector<Migration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    int number = std::atoi(migrations[i].name.c_str());
    if (number != static_cast<int>(i + 1)) {
      return absl::InternalError(absl::StrCat("migration ", migrations[i].name,
                                              " is out of sequence: expected number ", i + 1));
    }
  }
  const int known = static_cast<int>(migrations.size());
  DE_ASSIGN_OR_RETURN(int before, SchemaVersion(db));
  if (before == known) return absl::OkStatus();   // current: no write lock needed
  while (true) {
    // The version is read inside the write transaction: another scheduler may have migrated.
    Transaction tx(db);
    DE_RETURN_IF_ERROR(tx.status());
    DE_ASSIGN_OR_RETURN(int current, SchemaVersion(db));
    if (current > known) {
      return absl::FailedPreconditionError(
          absl::StrCat("database ", db->path(), " has schema version ", current,
                       " but this de-scheduler knows only up to ", known,
                       ": refusing to open a newer database"));
    }
    if (current == known) return absl::OkStatus();
    const Migration& m = migrations[current];
    absl::Status st = db->Exec(m.sql);
    if (!st.ok()) {
      return absl::InternalError(absl::StrCat("migration ", m.name, " failed: ", st.message()));
    }
    DE_RETURN_IF_ERROR(db->SetSchemaVersion(current + 1));
    DE_RETURN_IF_ERROR(tx.Commit());
    spdlog::info("applied migration {}", m.name);
  }
}

}  // namespace de::store
