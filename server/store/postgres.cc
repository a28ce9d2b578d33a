#include "server/store/postgres.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace de::store {

namespace {

// The advisory lock every write transaction holds: one de writer at a time, as with SQLite.
constexpr char kWriteLock[] = "SELECT pg_advisory_xact_lock(6869501)";   // "de" + 1
// How long a statement waits for a lock (the write lock included) before "database busy",
// as SQLite's busy timeout.
// The SQLSTATE of de_fence(): a write from a connection whose de.epoch is not the leader's.
constexpr char kFencedState[] = "DEF01";
constexpr char kLockTimeout[] = "SET lock_timeout = '5s'";

void IgnoreNotice(void*, const char*) {}   // "table exists, skipping" and the like

}  // namespace

Stmt& PgStmt::Bind(int i, int64_t v) {
  Set(i, std::to_string(v));
  return *this;
}
Stmt& PgStmt::Bind(int i, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  Set(i, std::string(buf));
  return *this;
}
Stmt& PgStmt::Bind(int i, std::string_view v) {
  Set(i, std::string(v));
  return *this;
}
Stmt& PgStmt::BindNull(int i) {
  Set(i, std::nullopt);
  return *this;
}

void PgStmt::Set(int i, std::optional<std::string> v) {
  if (i < 1) return;
  if (params_.size() < static_cast<size_t>(i)) params_.resize(i);
  params_[i - 1] = std::move(v);
}

void PgStmt::Clear() {
  if (result_ != nullptr) PQclear(result_);
  result_ = nullptr;
  row_ = -1;
  rows_ = 0;
}

absl::StatusOr<bool> PgStmt::Step() {
  if (result_ != nullptr && row_ >= rows_) Clear();   // stepping past the end runs it again
  if (result_ == nullptr) {
    DE_ASSIGN_OR_RETURN(result_, db_->Execute(sql_, params_));
    rows_ = PQntuples(result_);
    row_ = -1;
  }
  ++row_;
  return row_ < rows_;
}

absl::Status PgStmt::Run() {
  Clear();
  DE_ASSIGN_OR_RETURN(PGresult * res, db_->Execute(sql_, params_));
  PQclear(res);
  return absl::OkStatus();
}

void PgStmt::Reset() {
  Clear();
  params_.clear();
}

const char* PgStmt::Value(int col) const {
  if (result_ == nullptr || row_ < 0 || row_ >= rows_ || col >= PQnfields(result_)) {
    return nullptr;
  }
  if (PQgetisnull(result_, row_, col)) return nullptr;
  return PQgetvalue(result_, row_, col);
}

int64_t PgStmt::Int(int col) const {
  const char* v = Value(col);
  if (v == nullptr) return 0;
  if (v[0] == 't' && v[1] == '\0') return 1;   // a boolean, as SQLite's 0/1
  if (v[0] == 'f' && v[1] == '\0') return 0;
  return std::strtoll(v, nullptr, 10);
}

double PgStmt::Double(int col) const {
  const char* v = Value(col);
  return v == nullptr ? 0.0 : std::strtod(v, nullptr);
}

std::string PgStmt::Text(int col) const {
  const char* v = Value(col);
  if (v == nullptr) return "";
  return std::string(v, PQgetlength(result_, row_, col));
}

bool PgStmt::IsNull(int col) const { return Value(col) == nullptr; }

absl::StatusOr<std::unique_ptr<PgDb>> PgDb::Open(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  std::string shown = RedactPgUrl(url);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string msg = conn ? PQerrorMessage(conn) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(conn);
    return absl::UnavailableError(absl::StrCat("cannot connect to ", shown, ": ", msg));
  }
  std::unique_ptr<PgDb> db(new PgDb(conn, std::move(shown)));
  DE_RETURN_IF_ERROR(db->Setup());
  return db;
}

PgDb::~PgDb() {
  cache_.clear();
  PQfinish(conn_);
}

absl::Status PgDb::Setup() {
  PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
  const char* sync = GetSyncMode() == SyncMode::kFull ? "SET synchronous_commit = on"
                                                       : "SET synchronous_commit = off";
  applied_epoch_ = 0;   // a new session: de.epoch is set again before its first statement
  return Exec(absl::StrCat(kLockTimeout, "; ", sync, "; SET client_min_messages = warning"));
}

absl::Status PgDb::ApplyWriteEpoch() {
  const int64_t epoch = GetWriteEpoch();
  if (epoch == applied_epoch_ || in_tx_ || PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    return absl::OkStatus();
  }
  const std::string sql = absl::StrCat("SET de.epoch = '", epoch, "'");
  PGresult* res = PQexec(conn_, sql.c_str());
  absl::Status st = ResultStatus(res, sql);
  PQclear(res);
  if (st.ok()) applied_epoch_ = epoch;
  return st;
}

absl::Status PgDb::Connected() {
  if (PQstatus(conn_) == CONNECTION_OK) return ApplyWriteEpoch();
  if (in_tx_) {
    return PgStatus("", absl::StrCat(shown_, ": the connection broke inside a transaction"));
  }
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) return PgStatus("", PQerrorMessage(conn_));
  spdlog::warn("reconnected to {}", shown_);
  DE_RETURN_IF_ERROR(Setup());
  return ApplyWriteEpoch();
}

absl::Status PgDb::ResultStatus(PGresult* res, std::string_view sql) {
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return absl::OkStatus();
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
                                                         : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (state == nullptr && PQstatus(conn_) == CONNECTION_OK && res != nullptr) state = "XX000";
  if (state != nullptr && std::string_view(state) == kFencedState) {
    NotifyFenced();
    if (size_t nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);   // no CONTEXT lines
    if (size_t at = msg.find("fenced:"); at != std::string::npos) msg.erase(0, at);
    return absl::UnavailableError(msg);   // "fenced: this scheduler (epoch N) is not the leader"
  }
  return PgStatus(state ? state : "", absl::StrCat(msg, " in: ", std::string(sql)));
}

absl::StatusOr<PGresult*> PgDb::Execute(const std::string& sql,
                                        const std::vector<std::optional<std::string>>& params) {
  DE_RETURN_IF_ERROR(Connected());
  std::vector<const char*> values(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i] ? params[i]->c_str() : nullptr;
  }
  PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
  if (absl::Status st = ResultStatus(res, sql); !st.ok()) {
    PQclear(res);
    return st;
  }
  // As sqlite3_changes(): only writes count (PQcmdTuples also counts a SELECT's rows).
  std::string_view tag = PQcmdStatus(res);
  if (tag.substr(0, 6) == "INSERT" || tag.substr(0, 6) == "UPDATE" ||
      tag.substr(0, 6) == "DELETE") {
    changes_ = std::atoi(PQcmdTuples(res));
  }
  return res;
}

absl::Status PgDb::Exec(std::string_view sql) {
  DE_RETURN_IF_ERROR(Connected());
  std::string s(sql);
  PGresult* res = PQexec(conn_, s.c_str());
  absl::Status st = ResultStatus(res, s);
  PQclear(res);
  return st;
}

absl::StatusOr<std::unique_ptr<Stmt>> PgDb::Prepare(std::string_view sql) {
  return std::unique_ptr<Stmt>(new PgStmt(this, PgPlaceholders(sql)));
}

Stmt& PgDb::Cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    it = cache_.emplace(sql, std::make_unique<PgStmt>(this, PgPlaceholders(sql))).first;
  }
  it->second->Reset();
  return *it->second;
}

absl::StatusOr<int> PgDb::SchemaVersion() {
  DE_ASSIGN_OR_RETURN(auto exists, Prepare("SELECT to_regclass('de_schema_version') IS NOT NULL"));
  DE_ASSIGN_OR_RETURN(bool row, exists->Step());
  if (!row || exists->Int(0) == 0) return 0;
  DE_ASSIGN_OR_RETURN(auto version, Prepare("SELECT coalesce(max(version), 0) FROM de_schema_version"));
  DE_ASSIGN_OR_RETURN(row, version->Step());
  return row ? static_cast<int>(version->Int(0)) : 0;
}

absl::Status PgDb::SetSchemaVersion(int version) {
  return Exec(absl::StrCat(
      "CREATE TABLE IF NOT EXISTS de_schema_version (version BIGINT NOT NULL); "
      "DELETE FROM de_schema_version; INSERT INTO de_schema_version VALUES (", version, ")"));
}

absl::Status PgDb::NotInTransaction() const {
  if (PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) == PQTRANS_IDLE) {
    return absl::OkStatus();   // a broken connection is re-opened by Connected()
  }
  // PostgreSQL would only warn; SQLite refuses, and so do we.
  return absl::InternalError("postgres: cannot start a transaction within a transaction");
}

absl::Status PgDb::BeginWrite() {
  DE_RETURN_IF_ERROR(NotInTransaction());
  DE_RETURN_IF_ERROR(Connected());   // de.epoch is set before the transaction, not in it
  in_tx_ = true;
  if (absl::Status st = Exec(absl::StrCat("BEGIN; ", kWriteLock)); !st.ok()) {
    RollbackTx();
    return st;
  }
  return absl::OkStatus();
}

absl::Status PgDb::BeginRead() {
  DE_RETURN_IF_ERROR(NotInTransaction());
  DE_RETURN_IF_ERROR(Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  in_tx_ = true;
  return absl::OkStatus();
}

absl::Status PgDb::CommitTx() {
  DE_RETURN_IF_ERROR(Connected());
  PGresult* res = PQexec(conn_, "COMMIT");
  absl::Status st = ResultStatus(res, "COMMIT");
  // COMMIT of a transaction in which a statement failed answers ROLLBACK: nothing was written.
  if (st.ok() && std::string_view(PQcmdStatus(res)) == "ROLLBACK") {
    st = absl::InternalError(
        "postgres: the transaction was rolled back (a statement in it failed)");
  }
  PQclear(res);
  if (PQtransactionStatus(conn_) == PQTRANS_IDLE) in_tx_ = false;
  return st;
}

void PgDb::RollbackTx() {
  if (PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    PGresult* res = PQexec(conn_, "ROLLBACK");
    PQclear(res);
  }
  in_tx_ = false;
}

}  // namespace de::store
