// Store: task instances and their attempts.
#include "server/store/store.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/store/rows.h"

namespace de::store {

using internal::CollectRows;
using internal::CountersToJson;
using internal::FirstRow;
using internal::ReadAttempt;
using internal::ReadTaskInstance;
using internal::kAttemptCols;
using internal::kTaskInstanceCols;

absl::Status Store::InsertTaskInstance(const TaskInstanceRow& t) {
  Stmt& s = db_->Cached(absl::StrCat("INSERT INTO task_instances(", kTaskInstanceCols,
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
      .Bind(1, t.run_id)
      .Bind(2, t.task_id)
      .Bind(3, t.state)
      .Bind(4, t.try_number)
      .Bind(5, t.max_tries)
      .Bind(6, t.lost_count)
      .BindOptional(7, t.next_retry_at)
      .BindOptional(8, t.queued_at)
      .BindOptional(9, t.started_at)
      .BindOptional(10, t.ended_at)
      .Bind(11, t.worker)
      .Bind(12, t.error)
      .Bind(13, CountersToJson(t.counters))
      .BindOptional(14, t.deadline_at)
      .BindOptional(15, t.deadline_missed_at);
  if (t.map_index >= 0) {
    s.Bind(16, t.map_index).Bind(17, t.map_item);
  } else {
    s.BindNull(16).BindNull(17);
  }
  return s.Run();
}

absl::Status Store::UpdateTaskInstance(const TaskInstanceRow& t) {
  return db_->Cached("UPDATE task_instances SET state = ?, try_number = ?, max_tries = ?, "
                     "lost_count = ?, next_retry_at = ?, queued_at = ?, started_at = ?, "
                     "ended_at = ?, worker = ?, error = ?, counters = ?, deadline_at = ?, "
                     "deadline_missed_at = ? WHERE run_id = ? AND task_id = ?")
      .Bind(1, t.state)
      .Bind(2, t.try_number)
      .Bind(3, t.max_tries)
      .Bind(4, t.lost_count)
      .BindOptional(5, t.next_retry_at)
      .BindOptional(6, t.queued_at)
      .BindOptional(7, t.started_at)
      .BindOptional(8, t.ended_at)
      .Bind(9, t.worker)
      .Bind(10, t.error)
      .Bind(11, CountersToJson(t.counters))
      .BindOptional(12, t.deadline_at)
      .BindOptional(13, t.deadline_missed_at)
      .Bind(14, t.run_id)
      .Bind(15, t.task_id)
      .Run();
}

absl::StatusOr<std::vector<TaskInstanceRow>> Store::ListTaskInstances(const std::string& run_id) {
  Stmt& s = db_->Cached(absl::StrCat("SELECT ", kTaskInstanceCols,
                                     " FROM task_instances WHERE run_id = ? ORDER BY rowid"));
  s.Bind(1, run_id);
  return CollectRows(s, ReadTaskInstance);
}

absl::StatusOr<std::optional<TaskInstanceRow>> Store::GetTaskInstance(const std::string& run_id,
                                                                      const std::string& task_id) {
  DE_ASSIGN_OR_RETURN(auto all, ListTaskInstances(run_id));
  for (auto& t : all) {
    if (t.task_id == task_id) return t;
  }
  return std::nullopt;
}

absl::StatusOr<int64_t> Store::InsertAttempt(const AttemptRow& a) {
  return InsertReturningId(db_->Cached("INSERT INTO attempts(run_id, task_id, try_number, worker, "
                                       "state, started_at) VALUES (?, ?, ?, ?, ?, ?) "
                                       "RETURNING attempt_id")
                               .Bind(1, a.run_id)
                               .Bind(2, a.task_id)
                               .Bind(3, a.try_number)
                               .Bind(4, a.worker)
                               .Bind(5, a.state)
                               .Bind(6, a.started_at));
}

absl::Status Store::UpdateAttempt(const AttemptRow& a) {
  Stmt& s = db_->Cached(
      "UPDATE attempts SET state = ?, ended_at = ?, exit_code = ?, error = ? WHERE attempt_id = ?");
  s.Bind(1, a.state).BindOptional(2, a.ended_at);
  if (a.exit_code) {
    s.Bind(3, *a.exit_code);
  } else {
    s.BindNull(3);
  }
  return s.Bind(4, a.error).Bind(5, a.attempt_id).Run();
}

absl::StatusOr<std::vector<AttemptRow>> Store::ListAttempts(const std::string& run_id) {
  Stmt& s = db_->Cached(absl::StrCat("SELECT ", kAttemptCols,
                                     " FROM attempts WHERE run_id = ? ORDER BY attempt_id"));
  s.Bind(1, run_id);
  return CollectRows(s, ReadAttempt);
}

absl::StatusOr<std::optional<AttemptRow>> Store::GetAttempt(int64_t attempt_id) {
  Stmt& s =
      db_->Cached(absl::StrCat("SELECT ", kAttemptCols, " FROM attempts WHERE attempt_id = ?"));
  s.Bind(1, attempt_id);
  return FirstRow(s, ReadAttempt);
}

}  // namespace de::store
