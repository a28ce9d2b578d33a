#include "server/store/sqlite.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace de::store {

absl::Status SqliteStatus(int rc, std::string_view msg) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(absl::StrCat("disk full: ", std::string(msg)));
    case SQLITE_IOERR:
      return absl::UnavailableError(absl::StrCat("I/O error: ", std::string(msg)));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(
          absl::StrCat("database busy (another connection holds its lock): ", std::string(msg)));
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(
          absl::StrCat("cannot open the database file: ", std::string(msg)));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(absl::StrCat("database is corrupt: ", std::string(msg)));
    default:
      return absl::InternalError(absl::StrCat("sqlite: ", std::string(msg)));
  }
}

SqliteStmt::~SqliteStmt() { sqlite3_finalize(stmt_); }

Stmt& SqliteStmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& SqliteStmt::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Stmt& SqliteStmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& SqliteStmt::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

absl::StatusOr<bool> SqliteStmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  absl::Status st = SqliteStatus(
      rc, absl::StrCat(sqlite3_errmsg(db_->raw()), " in: ", sqlite3_sql(stmt_)));
  sqlite3_reset(stmt_);
  return st;
}

absl::Status SqliteStmt::Run() {
  while (true) {
    auto row = Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
  }
  sqlite3_reset(stmt_);
  return absl::OkStatus();
}

void SqliteStmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string SqliteStmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col));
}

namespace {

// Counts each commit for the WalSync. It replaces SQLite's own hook, which would checkpoint here
// (under the scheduler's lock): the WalSync checkpoints on its own thread instead.
int OnWalCommit(void* arg, sqlite3*, const char*, int pages) {
  static_cast<WalSync*>(arg)->Committed(pages);
  return SQLITE_OK;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path,
                                                         bool defer_sync) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return absl::UnavailableError(absl::StrCat("cannot open database ", path, ": ", msg));
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw, path));
  sqlite3_busy_timeout(raw, 5000);
  // The scheduler's connection (defer_sync) never syncs inside a commit: its WalSync does.
  const char* sync = GetSyncMode() == SyncMode::kFull && !defer_sync ? "PRAGMA synchronous=FULL"
                                                                      : "PRAGMA synchronous=NORMAL";
  for (const char* pragma : {"PRAGMA journal_mode=WAL", sync,
                             "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY"}) {
    absl::Status st = db->Exec(pragma);
    if (!st.ok()) return st;
  }
  if (defer_sync) DE_RETURN_IF_ERROR(db->StartWalSync());
  return db;
}

absl::Status SqliteDb::StartWalSync() {
  // The checkpoints' own connection, used by the syncer thread alone.
  int rc = sqlite3_open_v2(path_.c_str(), &checkpoint_db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot open database ", path_, " for checkpoints: ", sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(checkpoint_db_, 5000);
  // A connection learns the database is in WAL mode when it first reads it.
  sqlite3_exec(checkpoint_db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
  WalSync::Options o;
  if (GetSyncMode() == SyncMode::kNormal) {
    o.sync = [](int) { return 0; };   // --sync normal: only the checkpoints move off the lock
  } else if (const char* fail = std::getenv("DE_TEST_WAL_SYNC_FAIL_FILE")) {
    // Test hook: the WAL's fsync fails with EIO while this file exists (a dying disk).
    o.sync = [fail = std::string(fail)](int fd) {
      if (access(fail.c_str(), F_OK) != 0) return fdatasync(fd);
      errno = EIO;
      return -1;
    };
  }
  o.checkpoint = [c = checkpoint_db_, path = path_] {
    const int rc = sqlite3_wal_checkpoint_v2(c, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    // Busy (a writer or a reader in the way) is retried with the next long WAL; anything else
    // would let the WAL grow without bound, so it is said.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      spdlog::warn("checkpointing {}: {}; {}-wal keeps growing until one succeeds", path,
                   sqlite3_errmsg(c), path);
    }
  };
  wal_sync_ = std::make_unique<WalSync>(path_ + "-wal", std::move(o));
  sqlite3_wal_hook(db_, OnWalCommit, wal_sync_.get());
  return absl::OkStatus();
}

SqliteDb::~SqliteDb() {
  cache_.clear();
  sqlite3_close(db_);
  wal_sync_.reset();   // its thread syncs what is left, then no longer checkpoints
  sqlite3_close(checkpoint_db_);   // null without defer_sync: a no-op
}

absl::Status SqliteDb::Error(std::string_view what) const {
  return SqliteStatus(sqlite3_extended_errcode(db_),
                      absl::StrCat(std::string(what), ": ", sqlite3_errmsg(db_)));
}

absl::Status SqliteDb::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return SqliteStatus(sqlite3_extended_errcode(db_), msg);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Stmt>> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return absl::InternalError(
        absl::StrCat("sqlite: ", sqlite3_errmsg(db_), " preparing: ", std::string(sql)));
  }
  return std::unique_ptr<Stmt>(new SqliteStmt(this, stmt));
}

Stmt& SqliteDb::Cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) {
      // Cached statements are compile-time constants of this program: a failure is a bug.
      spdlog::critical("sqlite: {} preparing: {}", sqlite3_errmsg(db_), sql);
      std::abort();
    }
    it = cache_.emplace(sql, std::make_unique<SqliteStmt>(this, stmt)).first;
  }
  it->second->Reset();
  return *it->second;
}

absl::StatusOr<int> SqliteDb::SchemaVersion() {
  DE_ASSIGN_OR_RETURN(auto stmt, Prepare("PRAGMA user_version"));
  DE_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return Error("reading user_version");
  return static_cast<int>(stmt->Int(0));
}

absl::Status SqliteDb::SetSchemaVersion(int version) {
  return Exec(absl::StrCat("PRAGMA user_version = ", version));
}

void SqliteDb::RollbackTx() {
  // SQLite may already have rolled back by itself (after SQLITE_FULL, SQLITE_IOERR, ...).
  if (sqlite3_get_autocommit(db_) == 0) (void)Exec("ROLLBACK");
}

}  // namespace de::store
