#include "server/store/migrator.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace de::store {

absl::StatusOr<int> SchemaVersion(Db* db) {
  DE_ASSIGN_OR_RETURN(auto stmt, db->Prepare("PRAGMA user_version"));
  DE_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return db->Error("reading user_version");
  return static_cast<int>(stmt->Int(0));
}

absl::Status Migrate(Db* db, const std::vector<Migration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    int number = std::atoi(migrations[i].name.c_str());
    if (number != static_cast<int>(i + 1)) {
      return absl::InternalError(absl::StrCat("migration ", migrations[i].name,
                                              " is out of sequence: expected number ", i + 1));
    }
  }
  DE_ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  const int known = static_cast<int>(migrations.size());
  if (current > known) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", db->path(), " has schema version ", current,
        " but this de-scheduler knows only up to ", known, ": refusing to open a newer database"));
  }
  for (int v = current; v < known; ++v) {
    const Migration& m = migrations[v];
    Transaction tx(db);
    DE_RETURN_IF_ERROR(tx.status());
    absl::Status st = db->Exec(m.sql);
    if (!st.ok()) {
      return absl::InternalError(absl::StrCat("migration ", m.name, " failed: ", st.message()));
    }
    DE_RETURN_IF_ERROR(db->Exec(absl::StrCat("PRAGMA user_version = ", v + 1)));
    DE_RETURN_IF_ERROR(tx.Commit());
    spdlog::info("applied migration {}", m.name);
  }
  return absl::OkStatus();
}

}  // namespace de::store
