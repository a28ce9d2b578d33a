// Thin RAII wrapper over the SQLite C API: a connection, prepared statements, transactions.
// Not thread-safe: one Db is used by one thread at a time (the caller holds a lock).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/statusor.h"

namespace de::store {

class Db;

// The status for SQLite result code `rc`, its message saying why first: SQLITE_FULL is
// ResourceExhausted ("disk full: ..."), I/O errors ("I/O error: ...") and a lock held too long
// ("database busy ...") are Unavailable, corruption is DataLoss, anything else Internal.
absl::Status SqliteStatus(int rc, std::string_view msg);
// Whether `st` says the store itself failed (disk full, I/O error, busy): the same write may
// succeed later, unlike a bug or a bad row, which would fail again.
bool IsStoreFailure(const absl::Status& st);

// A prepared statement. Bind parameters are 1-based; columns 0-based.
class Stmt {
 public:
  Stmt(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& BindNull(int i);
  // Binds v, or NULL when v == 0 (for optional timestamps).
  Stmt& BindOptional(int i, int64_t v) { return v == 0 ? BindNull(i) : Bind(i, v); }

  // Steps once: true if a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps to completion (for statements that return no rows).
  absl::Status Run();
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  Db* db_;
  sqlite3_stmt* stmt_;
};

// Resets a (cached) statement when the scope ends, so a single-row read does not keep the
// statement busy (which would pin a read snapshot and keep the WAL from being checkpointed).
class ResetOnExit {
 public:
  explicit ResetOnExit(Stmt& s) : s_(s) {}
  ~ResetOnExit() { s_.Reset(); }

 private:
  Stmt& s_;
};

// How far a commit is on disk when it returns. kFull (the default): synced, survives a power
// cut. kNormal: in the OS page cache, survives a crash of the process but the last transactions
// may be lost on power loss. Set once at startup, before connections are opened.
enum class SyncMode { kFull, kNormal };
void SetSyncMode(SyncMode mode);

class Db {
 public:
  // Opens (creating if needed) with WAL, the SyncMode's synchronous=, foreign keys, a busy timeout.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path);
  ~Db();

  absl::Status Exec(std::string_view sql);
  // A fresh prepared statement (compiled each call; for hot paths use Cached).
  absl::StatusOr<std::unique_ptr<Stmt>> Prepare(std::string_view sql);
  // A statement compiled once and reused; reset and cleared of bindings before it is returned.
  Stmt& Cached(const std::string& sql);

  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  absl::Status Error(std::string_view what) const;
  sqlite3* raw() { return db_; }
  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless Commit() succeeded. A failed
// Commit() rolls back at once, so the database holds no open transaction when it returns.
class Transaction {
 public:
  explicit Transaction(Db* db);
  ~Transaction();
  absl::Status status() const { return begin_status_; }
  absl::Status Commit();
  // Ends the transaction without its writes (no-op once it ended).
  void Rollback();

 private:
  Db* db_;
  absl::Status begin_status_;
  bool done_ = false;
};

// A read snapshot: every statement between construction and destruction sees one consistent
// state of the database (WAL), without blocking writers.
class ReadTransaction {
 public:
  explicit ReadTransaction(Db* db) : db_(db) { ok_ = db_->Exec("BEGIN").ok(); }
  ~ReadTransaction() {
    if (ok_) (void)db_->Exec("COMMIT");
  }

 private:
  Db* db_;
  bool ok_ = false;
};

}  // namespace de::store
