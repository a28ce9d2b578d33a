#include "server/auth/audit_log.h"

#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "common/status.h"

namespace de::auth {

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& db_path,
                                                         const common::Clock* clock) {
  DE_ASSIGN_OR_RETURN(auto db, store::Db::Open(db_path));
  return std::unique_ptr<AuditLog>(new AuditLog(std::move(db), clock));
}

absl::StatusOr<int64_t> AuditLog::Begin(AuditRow row) {
  absl::MutexLock lock(&mu_);
  store::Stmt& s = db_->Cached(
      "INSERT INTO audit_log (at, who, role, peer, method, dag_id, args, outcome, error) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  s.Bind(1, absl::ToUnixMillis(clock_->Now())).Bind(2, row.who).Bind(3, row.role);
  s.Bind(4, row.peer).Bind(5, row.method).Bind(6, row.dag_id).Bind(7, row.args);
  s.Bind(8, row.outcome).Bind(9, row.error);
  return store::InsertReturningId(s);
}

absl::Status AuditLog::Finish(int64_t id, const std::string& dag_id, const std::string& outcome,
                              const std::string& error) {
  absl::MutexLock lock(&mu_);
  store::Stmt& s = db_->Cached(
      "UPDATE audit_log SET outcome = ?, error = ?, dag_id = CASE WHEN dag_id = '' THEN ? "
      "ELSE dag_id END WHERE id = ?");
  s.Bind(1, outcome).Bind(2, error).Bind(3, dag_id).Bind(4, id);
  return s.Run();
}

absl::StatusOr<std::vector<AuditRow>> AuditLog::List(int64_t since_ms, const std::string& dag_id,
                                                     int limit) {
  if (limit > kMaxListRows) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit ", limit, " is more than ", kMaxListRows, " audit rows (use --since)"));
  }
  absl::MutexLock lock(&mu_);
  store::Stmt& s = db_->Cached(
      "SELECT id, at, who, role, peer, method, dag_id, args, outcome, error FROM audit_log "
      "WHERE at >= ? AND (? = '' OR dag_id = ?) ORDER BY id DESC LIMIT ?");
  s.Bind(1, since_ms).Bind(2, dag_id).Bind(3, dag_id).Bind(4, limit <= 0 ? 100 : limit);
  store::ResetOnExit reset(s);
  std::vector<AuditRow> out;
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    AuditRow r;
    r.id = s.Int(0);
    r.at = s.Int(1);
    r.who = s.Text(2);
    r.role = s.Text(3);
    r.peer = s.Text(4);
    r.method = s.Text(5);
    r.dag_id = s.Text(6);
    r.args = s.Text(7);
    r.outcome = s.Text(8);
    r.error = s.Text(9);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace de::auth
