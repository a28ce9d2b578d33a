// The database connection the store, the outbox, auth and the vault talk to: an interface with
// two implementations, SQLite (sqlite.h, the embedded default: a file in DE_HOME) and PostgreSQL
// (postgres.h, `postgres://` or `postgresql://` URLs). Callers write SQLite-style SQL that both
// understand: `?` or `?N` placeholders, ON CONFLICT upserts, RETURNING instead of
// last_insert_rowid(), coalesce() instead of ifnull(), an alias on every subquery in FROM.
// Not thread-safe: one Db is used by one thread at a time (the caller holds a lock).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace de::store {

// Whether `st` says the store itself failed (disk full, I/O error, busy, connection lost): the
// same write may succeed later, unlike a bug or a bad row, which would fail again.
bool IsStoreFailure(const absl::Status& st);

enum class Dialect { kSqlite, kPostgres };

// Whether `location` names a PostgreSQL database (postgres:// or postgresql://) rather than a
// SQLite file.
bool IsPostgresUrl(std::string_view location);

// A prepared statement. Bind parameters are 1-based; columns 0-based.
class Stmt {
 public:
  virtual ~Stmt() = default;

  virtual Stmt& Bind(int i, int64_t v) = 0;
  virtual Stmt& Bind(int i, double v) = 0;
  virtual Stmt& Bind(int i, std::string_view v) = 0;
  virtual Stmt& BindNull(int i) = 0;
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  // Binds v, or NULL when v == 0 (for optional timestamps).
  Stmt& BindOptional(int i, int64_t v) { return v == 0 ? BindNull(i) : Bind(i, v); }

  // Steps once: true if a row is available, false when done.
  virtual absl::StatusOr<bool> Step() = 0;
  // Steps to completion (for statements that return no rows); keeps the bindings.
  virtual absl::Status Run() = 0;
  // Back to before the first Step, bindings cleared.
  virtual void Reset() = 0;

  virtual int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  virtual bool IsNull(int col) const = 0;
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

// Runs an `INSERT ... RETURNING id` statement and returns the id (the statement is reset).
absl::StatusOr<int64_t> InsertReturningId(Stmt& s);

// How far a commit is on disk when it returns. kFull (the default): synced, survives a power
// cut. kNormal: the last transactions may be lost on power loss (SQLite synchronous=NORMAL;
// PostgreSQL synchronous_commit=off). Set once at startup, before connections are opened.
enum class SyncMode { kFull, kNormal };
void SetSyncMode(SyncMode mode);
SyncMode GetSyncMode();

// Fencing, for schedulers that share one PostgreSQL database (server/ha/leadership.h): the epoch
// every connection of this process writes with. 0 (the default, and always with SQLite): writes
// are not fenced. -1: a standby, every write to de's tables is refused. N > 0: writes are taken
// only while N is the leader's epoch in the lease row (migrations/postgres/0008_leader.sql); a
// refused write fails with Unavailable("fenced: ...") and calls the fenced handler.
void SetWriteEpoch(int64_t epoch);
int64_t GetWriteEpoch();
// Called (from whichever thread wrote) when the database refused a write as fenced.
void SetFencedHandler(void (*handler)());
void NotifyFenced();

class Db {
 public:
  // Opens `location`: a PostgreSQL URL, or else a SQLite file path (created if needed).
  // `defer_sync` (SQLite): commits return before they are on disk and a syncer thread makes
  // them durable behind them and checkpoints (wal_sync.h; with SyncMode kNormal it only
  // checkpoints); report a commit only after AwaitDurable(CommitSeq()). Otherwise every commit is
  // as durable as SyncMode says on return.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& location,
                                                  bool defer_sync = false);
  virtual ~Db() = default;

  // The newest commit's number, and waiting until every commit up to one is on disk (false: it
  // never will be, a sync failed). Without deferred syncs: 0, and true at once.
  virtual uint64_t CommitSeq() { return 0; }
  virtual bool AwaitDurable(uint64_t seq) { return true; }
  // AwaitDurable(CommitSeq()): OK once everything committed so far is on disk, else Unavailable
  // saying the sync failed (what every reporter of a commit answers then).
  absl::Status AwaitCommitted();

  virtual Dialect dialect() const = 0;
  // Runs one or more statements without parameters or results.
  virtual absl::Status Exec(std::string_view sql) = 0;
  // A fresh statement (for hot paths use Cached).
  virtual absl::StatusOr<std::unique_ptr<Stmt>> Prepare(std::string_view sql) = 0;
  // A statement compiled once and reused; reset and cleared of bindings before it is returned.
  // Cached statements are compile-time constants of this program: one that does not compile
  // is a bug and aborts.
  virtual Stmt& Cached(const std::string& sql) = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE that ran to completion.
  virtual int Changes() const = 0;
  // The database, for messages (a PostgreSQL URL without its password).
  virtual const std::string& path() const = 0;

  // The schema version: the number of migrations applied (see migrator.h).
  virtual absl::StatusOr<int> SchemaVersion() = 0;
  // Sets it, inside the migration's transaction.
  virtual absl::Status SetSchemaVersion(int version) = 0;

  // Transactions; use the Transaction and ReadTransaction classes below.
  virtual absl::Status BeginWrite() = 0;
  virtual absl::Status BeginRead() = 0;
  virtual absl::Status CommitTx() = 0;
  // Rolls back the open transaction, if the database still has one.
  virtual void RollbackTx() = 0;
};

// A write transaction: one writer at a time across every connection to the database (SQLite
// BEGIN IMMEDIATE; PostgreSQL BEGIN and a transaction-scoped advisory lock), so what it reads
// stays true until it commits. ROLLBACK on destruction unless Commit() succeeded. A failed
// Commit() rolls back at once, so the database holds no open transaction when it returns.
class Transaction {
 public:
  explicit Transaction(Db* db) : db_(db) { begin_status_ = db_->BeginWrite(); }
  ~Transaction() { Rollback(); }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
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
// state of the database (SQLite WAL; PostgreSQL REPEATABLE READ READ ONLY), without blocking
// writers.
class ReadTransaction {
 public:
  explicit ReadTransaction(Db* db) : db_(db) { ok_ = db_->BeginRead().ok(); }
  ~ReadTransaction() {
    if (ok_) (void)db_->CommitTx();
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Db* db_;
  bool ok_ = false;
};

}  // namespace de::store
