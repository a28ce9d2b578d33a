#include "server/store/pg_lock.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace de::store {

absl::StatusOr<std::unique_ptr<Db>> HoldSchedulerLock(const std::string& url) {
  DE_ASSIGN_OR_RETURN(auto db, Db::Open(url));
  DE_ASSIGN_OR_RETURN(auto s, db->Prepare("SELECT pg_try_advisory_lock(6869502)"));
  DE_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row || s->Int(0) != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "another de-scheduler is already running on ", db->path(),
        " (it holds the scheduler lock; one scheduler per database)"));
  }
  return db;
}

}  // namespace de::store
