// The PostgreSQL implementation of Db (db.h), over Debian's libpq: `de-scheduler --store
// postgresql://user@host/db`. Statements are written as for SQLite (`?`/`?N` placeholders, which
// become $N); values travel as text and the server infers their types from the statement.
// A lost connection fails the statement (Unavailable) and is re-opened on the next statement
// outside a transaction.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "server/store/db.h"

namespace de::store {

class PgDb;

// The status for a PostgreSQL error with SQLSTATE `sqlstate` (empty: no server answer, the
// connection is gone), with the same meanings as SqliteStatus: disk full (53100) and other
// exhausted resources are ResourceExhausted; I/O errors, lost connections, a server shutting
// down and lock timeouts, deadlocks and serialization failures ("database busy") are
// Unavailable; corruption (XX001, XX002) is DataLoss; anything else Internal.
absl::Status PgStatus(std::string_view sqlstate, std::string_view msg);

// SQLite-style placeholders to PostgreSQL's: `?N` becomes `$N`, a bare `?` the next number after
// the largest so far (as SQLite numbers them). Quoted strings, identifiers and comments are
// left alone.
std::string PgPlaceholders(std::string_view sql);

// `url` with any password replaced by ***, for messages and logs.
std::string RedactPgUrl(std::string_view url);

class PgStmt final : public Stmt {
 public:
  PgStmt(PgDb* db, std::string sql) : db_(db), sql_(std::move(sql)) {}
  PgStmt(const PgStmt&) = delete;
  PgStmt& operator=(const PgStmt&) = delete;
  ~PgStmt() override { Clear(); }

  using Stmt::Bind;
  Stmt& Bind(int i, int64_t v) override;
  Stmt& Bind(int i, double v) override;
  Stmt& Bind(int i, std::string_view v) override;
  Stmt& BindNull(int i) override;

  absl::StatusOr<bool> Step() override;
  absl::Status Run() override;
  void Reset() override;

  int64_t Int(int col) const override;
  double Double(int col) const override;
  std::string Text(int col) const override;
  bool IsNull(int col) const override;

 private:
  void Set(int i, std::optional<std::string> v);
  void Clear();
  const char* Value(int col) const;

  PgDb* db_;
  std::string sql_;   // with $N placeholders
  std::vector<std::optional<std::string>> params_;
  PGresult* result_ = nullptr;
  int row_ = -1;
  int rows_ = 0;
};

class PgDb final : public Db {
 public:
  static absl::StatusOr<std::unique_ptr<PgDb>> Open(const std::string& url);
  ~PgDb() override;

  Dialect dialect() const override { return Dialect::kPostgres; }
  absl::Status Exec(std::string_view sql) override;
  absl::StatusOr<std::unique_ptr<Stmt>> Prepare(std::string_view sql) override;
  Stmt& Cached(const std::string& sql) override;
  int Changes() const override { return changes_; }
  const std::string& path() const override { return shown_; }

  // The table de_schema_version (one row) holds what SQLite keeps in `PRAGMA user_version`.
  absl::StatusOr<int> SchemaVersion() override;
  absl::Status SetSchemaVersion(int version) override;

  absl::Status BeginWrite() override;
  absl::Status BeginRead() override;
  absl::Status CommitTx() override;
  void RollbackTx() override;

  // Runs `sql` with `params` (nullopt = NULL); the result has rows or is a completed command.
  absl::StatusOr<PGresult*> Execute(const std::string& sql,
                                    const std::vector<std::optional<std::string>>& params);
  PGconn* raw() { return conn_; }

 private:
  PgDb(PGconn* conn, std::string shown) : conn_(conn), shown_(std::move(shown)) {}
  absl::Status Connected();
  absl::Status NotInTransaction() const;
  absl::Status Setup();
  absl::Status ResultStatus(PGresult* res, std::string_view sql);
  // Sets de.epoch on the connection to GetWriteEpoch() when it differs (between transactions).
  absl::Status ApplyWriteEpoch();

  PGconn* conn_;
  std::string shown_;
  bool in_tx_ = false;
  int changes_ = 0;
  int64_t applied_epoch_ = 0;   // de.epoch as set on this connection (0: never set)
  std::unordered_map<std::string, std::unique_ptr<PgStmt>> cache_;
};

}  // namespace de::store
