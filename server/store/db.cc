#include "server/store/db.h"

#include <atomic>

#include "server/store/postgres.h"
#include "server/store/sqlite.h"

namespace de::store {

namespace {
std::atomic<SyncMode> g_sync_mode{SyncMode::kFull};
std::atomic<int64_t> g_write_epoch{0};
std::atomic<void (*)()> g_fenced_handler{nullptr};
}  // namespace

void SetWriteEpoch(int64_t epoch) { g_write_epoch.store(epoch); }
int64_t GetWriteEpoch() { return g_write_epoch.load(); }
void SetFencedHandler(void (*handler)()) { g_fenced_handler.store(handler); }
void NotifyFenced() {
  if (auto* h = g_fenced_handler.load()) h();
}

void SetSyncMode(SyncMode mode) { g_sync_mode.store(mode); }
SyncMode GetSyncMode() { return g_sync_mode.load(); }

bool IsStoreFailure(const absl::Status& st) {
  return st.code() == absl::StatusCode::kResourceExhausted ||
         st.code() == absl::StatusCode::kUnavailable;
}

bool IsPostgresUrl(std::string_view location) {
  auto starts = [&](std::string_view prefix) { return location.substr(0, prefix.size()) == prefix; };
  return starts("postgres://") || starts("postgresql://");
}

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& location, bool defer_sync) {
  if (IsPostgresUrl(location)) {
    auto db = PgDb::Open(location);
    if (!db.ok()) return db.status();
    return std::unique_ptr<Db>(std::move(*db));
  }
  auto db = SqliteDb::Open(location, defer_sync);
  if (!db.ok()) return db.status();
  return std::unique_ptr<Db>(std::move(*db));
}

absl::Status Db::AwaitCommitted() {
  if (AwaitDurable(CommitSeq())) return absl::OkStatus();
  return absl::UnavailableError(
      "the scheduler's database failed to sync to disk; the scheduler is exiting (see its log)");
}

absl::StatusOr<int64_t> InsertReturningId(Stmt& s) {
  ResetOnExit reset(s);
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError("INSERT ... RETURNING returned no row");
  return s.Int(0);
}

void Transaction::Rollback() {
  if (done_ || !begin_status_.ok()) return;
  done_ = true;
  db_->RollbackTx();
}

absl::Status Transaction::Commit() {
  if (!begin_status_.ok()) return begin_status_;
  if (done_) return absl::FailedPreconditionError("transaction already ended");
  absl::Status st = db_->CommitTx();
  if (st.ok()) {
    done_ = true;
    return st;
  }
  Rollback();   // a failed COMMIT can leave the transaction open: nothing of it stays
  return st;
}

}  // namespace de::store
