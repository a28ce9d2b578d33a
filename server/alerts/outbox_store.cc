#include "server/alerts/outbox_store.h"

#include "common/status.h"

namespace de::alerts {
namespace {

constexpr char kColumns[] =
    "id, delivery_id, dag_id, run_id, task_id, event, channel, target, body, state, attempts, "
    "next_attempt_at, last_status, last_error, created_at, sent_at";

OutboxRow ReadRow(const store::Stmt& s) {
  OutboxRow r;
  r.id = s.Int(0);
  r.delivery_id = s.Text(1);
  r.dag_id = s.Text(2);
  r.run_id = s.Text(3);
  r.task_id = s.Text(4);
  r.event = s.Text(5);
  r.channel = s.Text(6);
  r.target = s.Text(7);
  r.body = s.Text(8);
  r.state = s.Text(9);
  r.attempts = static_cast<int>(s.Int(10));
  r.next_attempt_at = s.Int(11);
  if (!s.IsNull(12)) r.last_status = static_cast<int>(s.Int(12));
  r.last_error = s.Text(13);
  r.created_at = s.Int(14);
  r.sent_at = s.IsNull(15) ? 0 : s.Int(15);
  return r;
}

absl::StatusOr<std::vector<OutboxRow>> ReadAll(store::Stmt& s) {
  store::ResetOnExit reset(s);
  std::vector<OutboxRow> out;
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadRow(s));
  }
  return out;
}

}  // namespace

absl::StatusOr<int64_t> InsertOutboxRow(store::Db* db, const OutboxRow& row) {
  store::Stmt& s = db->Cached(
      "INSERT INTO alert_outbox (delivery_id, dag_id, run_id, task_id, event, channel, target, "
      "body, state, attempts, next_attempt_at, last_error, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  s.Bind(1, row.delivery_id).Bind(2, row.dag_id).Bind(3, row.run_id).Bind(4, row.task_id);
  s.Bind(5, row.event).Bind(6, row.channel).Bind(7, row.target).Bind(8, row.body);
  s.Bind(9, row.state).Bind(10, row.attempts).Bind(11, row.next_attempt_at);
  s.Bind(12, row.last_error).Bind(13, row.created_at);
  return store::InsertReturningId(s);
}

absl::StatusOr<std::vector<OutboxRow>> DueOutboxRows(store::Db* db, int64_t now_ms, int limit) {
  store::Stmt& s = db->Cached(std::string("SELECT ") + kColumns +
                              " FROM alert_outbox WHERE state = 'pending' AND "
                              "next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?");
  s.Bind(1, now_ms).Bind(2, limit);
  return ReadAll(s);
}

absl::StatusOr<std::optional<int64_t>> NextDueAt(store::Db* db) {
  store::Stmt& s =
      db->Cached("SELECT MIN(next_attempt_at) FROM alert_outbox WHERE state = 'pending'");
  store::ResetOnExit reset(s);
  DE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row || s.IsNull(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(s.Int(0));
}

absl::Status UpdateOutboxAttempt(store::Db* db, const OutboxRow& row) {
  store::Stmt& s = db->Cached(
      "UPDATE alert_outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?, "
      "last_error = ?, sent_at = ? WHERE id = ?");
  s.Bind(1, row.state).Bind(2, row.attempts).Bind(3, row.next_attempt_at);
  if (row.last_status) {
    s.Bind(4, *row.last_status);
  } else {
    s.BindNull(4);
  }
  s.Bind(5, row.last_error).BindOptional(6, row.sent_at).Bind(7, row.id);
  return s.Run();
}

absl::StatusOr<std::vector<OutboxRow>> ListOutboxRows(store::Db* db, const std::string& dag_id,
                                                      bool failed_only, int limit) {
  store::Stmt& s = db->Cached(std::string("SELECT ") + kColumns +
                              " FROM alert_outbox WHERE (?1 = '' OR dag_id = ?1) AND "
                              "(?2 = 0 OR state = 'failed') ORDER BY id DESC LIMIT ?3");
  s.Bind(1, dag_id).Bind(2, failed_only ? 1 : 0).Bind(3, limit);
  return ReadAll(s);
}

}  // namespace de::alerts
