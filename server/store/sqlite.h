// The SQLite implementation of Db (db.h): a connection in WAL mode, prepared statements,
// transactions. The default store: a file in DE_HOME.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "server/store/db.h"
#include "server/store/wal_sync.h"

namespace de::store {

class SqliteDb;

// The status for SQLite result code `rc`, its message saying why first: SQLITE_FULL is
// ResourceExhausted ("disk full: ..."), I/O errors ("I/O error: ...") and a lock held too long
// ("database busy ...") are Unavailable, corruption is DataLoss, anything else Internal.
absl::Status SqliteStatus(int rc, std::string_view msg);

class SqliteStmt final : public Stmt {
 public:
  SqliteStmt(SqliteDb* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;
  ~SqliteStmt() override;

  using Stmt::Bind;
  Stmt& Bind(int i, int64_t v) override;
  Stmt& Bind(int i, double v) override;
  Stmt& Bind(int i, std::string_view v) override;
  Stmt& BindNull(int i) override;

  absl::StatusOr<bool> Step() override;
  absl::Status Run() override;
  void Reset() override;

  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const override { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const override;
  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  SqliteDb* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDb final : public Db {
 public:
  // Opens (creating if needed) with WAL, the SyncMode's synchronous=, foreign keys, a busy timeout.
  // `defer_sync`: synchronous=NORMAL and a WalSync behind the commits (with SyncMode kNormal it
  // only checkpoints, off the committing thread).
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path,
                                                        bool defer_sync = false);
  ~SqliteDb() override;

  Dialect dialect() const override { return Dialect::kSqlite; }
  absl::Status Exec(std::string_view sql) override;
  absl::StatusOr<std::unique_ptr<Stmt>> Prepare(std::string_view sql) override;
  Stmt& Cached(const std::string& sql) override;
  int Changes() const override { return sqlite3_changes(db_); }
  const std::string& path() const override { return path_; }

  // `PRAGMA user_version`.
  absl::StatusOr<int> SchemaVersion() override;
  absl::Status SetSchemaVersion(int version) override;

  absl::Status BeginWrite() override { return Exec("BEGIN IMMEDIATE"); }
  absl::Status BeginRead() override { return Exec("BEGIN"); }
  absl::Status CommitTx() override { return Exec("COMMIT"); }
  void RollbackTx() override;

  uint64_t CommitSeq() override { return wal_sync_ ? wal_sync_->CommitSeq() : 0; }
  bool AwaitDurable(uint64_t seq) override { return !wal_sync_ || wal_sync_->AwaitDurable(seq); }
  WalSync* wal_sync() { return wal_sync_.get(); }

  absl::Status Error(std::string_view what) const;
  sqlite3* raw() { return db_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  // defer_sync: the checkpoint connection, the WalSync and the WAL hook that feeds it.
  absl::Status StartWalSync();
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStmt>> cache_;
  std::unique_ptr<WalSync> wal_sync_;   // with defer_sync
  sqlite3* checkpoint_db_ = nullptr;      // with defer_sync: the WalSync thread's checkpoints
};

}  // namespace de::store
