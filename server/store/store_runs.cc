// Store: runs, and the interval queries of the cron scheduler, backfills and depends_on_past.
#include "server/store/store.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/store/rows.h"

namespace de::store {

using internal::CollectRows;
using internal::ConfFromJson;
using internal::ConfToJson;
using internal::FirstRow;
using internal::ReadRun;
using internal::kRunCols;

absl::Status Store::InsertRun(const RunRow& r) {
  return db_->Cached(absl::StrCat("INSERT INTO runs(", kRunCols,
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
      .Bind(1, r.run_id)
      .Bind(2, r.dag_id)
      .Bind(3, r.dag_version)
      .Bind(4, r.run_type)
      .Bind(5, r.state)
      .Bind(6, r.logical_date)
      .Bind(7, r.interval_start)
      .Bind(8, r.interval_end)
      .Bind(9, ConfToJson(r.conf))
      .Bind(10, r.reason)
      .Bind(11, r.backfill_id)
      .Bind(12, r.created_at)
      .BindOptional(13, r.started_at)
      .BindOptional(14, r.ended_at)
      .BindOptional(15, r.deadline_at)
      .BindOptional(16, r.deadline_missed_at)
      .Run();
}

absl::Status Store::UpdateRun(const RunRow& r) {
  return db_->Cached("UPDATE runs SET state = ?, reason = ?, started_at = ?, ended_at = ?, "
                     "deadline_at = ?, deadline_missed_at = ? WHERE run_id = ?")
      .Bind(1, r.state)
      .Bind(2, r.reason)
      .BindOptional(3, r.started_at)
      .BindOptional(4, r.ended_at)
      .BindOptional(5, r.deadline_at)
      .BindOptional(6, r.deadline_missed_at)
      .Bind(7, r.run_id)
      .Run();
}

absl::StatusOr<std::optional<RunRow>> Store::GetRun(const std::string& run_id) {
  Stmt& s = db_->Cached(absl::StrCat("SELECT ", kRunCols, " FROM runs WHERE run_id = ?"));
  s.Bind(1, run_id);
  return FirstRow(s, ReadRun);
}

absl::StatusOr<bool> Store::RunExists(const std::string& run_id) {
  Stmt& s = db_->Cached("SELECT 1 FROM runs WHERE run_id = ?");
  ResetOnExit reset_on_exit(s);
  s.Bind(1, run_id);
  return s.Step();
}

absl::StatusOr<std::vector<RunRow>> Store::ListRuns(const std::string& dag_id,
                                                    const std::string& state, int limit) {
  // One statement per filter: `(? = '' OR dag_id = ?)` would hide the index from the planner
  // and read every run of history to return the latest one (dectl dag list asks for each DAG's).
  Stmt& s = db_->Cached(absl::StrCat(
      "SELECT ", kRunCols, " FROM runs WHERE ", dag_id.empty() ? "?1 = ''" : "dag_id = ?1",
      " AND (?2 = '' OR state = ?2) ORDER BY logical_date DESC, created_at DESC LIMIT ?3"));
  s.Bind(1, dag_id).Bind(2, state).Bind(3, limit);
  return CollectRows(s, ReadRun);
}

absl::StatusOr<std::vector<RunRow>> Store::ListUnfinishedRuns() {
  std::vector<UnreadableRun> unreadable;
  DE_ASSIGN_OR_RETURN(auto rows, ListUnfinishedRuns(&unreadable));
  if (!unreadable.empty()) return unreadable.front().error;
  return rows;
}

absl::StatusOr<std::vector<RunRow>> Store::ListUnfinishedRuns(
    std::vector<UnreadableRun>* unreadable) {
  Stmt& s = db_->Cached(absl::StrCat(
      "SELECT ", kRunCols,
      " FROM runs WHERE state IN ('waiting', 'queued', 'running') ORDER BY logical_date, "
      "created_at"));
  ResetOnExit reset(s);
  std::vector<RunRow> out;
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    absl::StatusOr<RunRow> run = ReadRun(s);
    if (run.ok()) {
      out.push_back(*std::move(run));
    } else {
      unreadable->push_back({s.Text(0), run.status()});
    }
  }
  return out;
}

absl::Status Store::FailUnloadableRun(const std::string& run_id, const std::string& reason,
                                      int64_t now) {
  Stmt& conf = db_->Cached("SELECT conf FROM runs WHERE run_id = ?");
  conf.Bind(1, run_id);
  DE_ASSIGN_OR_RETURN(auto stored, FirstRow(conf, [](const Stmt& st) { return st.Text(0); }));
  const bool drop_conf = stored && !ConfFromJson(*stored, run_id).ok();
  DE_RETURN_IF_ERROR(db_->Cached("UPDATE runs SET state = 'failed', reason = ?, ended_at = ?, "
                                 "conf = CASE WHEN ? THEN '' ELSE conf END WHERE run_id = ?")
                         .Bind(1, reason)
                         .Bind(2, now)
                         .Bind(3, drop_conf ? 1 : 0)
                         .Bind(4, run_id)
                         .Run());
  DE_RETURN_IF_ERROR(db_->Cached("UPDATE task_instances SET state = 'failed', error = ?, "
                                 "ended_at = ? WHERE run_id = ? AND state IN ('scheduled', "
                                 "'queued', 'running', 'up_for_retry')")
                         .Bind(1, reason)
                         .Bind(2, now)
                         .Bind(3, run_id)
                         .Run());
  return db_->Cached("UPDATE attempts SET state = 'lost', ended_at = ?, error = ? "
                     "WHERE run_id = ? AND state = 'running'")
      .Bind(1, now)
      .Bind(2, reason)
      .Bind(3, run_id)
      .Run();
}

absl::StatusOr<std::map<std::string, int64_t>> Store::LastSuccessTimes() {
  Stmt& s = db_->Cached(
      "SELECT dag_id, max(ended_at) FROM runs WHERE state = 'success' GROUP BY dag_id");
  std::map<std::string, int64_t> out;
  DE_ASSIGN_OR_RETURN(auto rows, CollectRows(s, [](const Stmt& st) {
                        return std::make_pair(st.Text(0), st.Int(1));
                      }));
  for (auto& [dag, at] : rows) out[dag] = at;
  return out;
}

absl::StatusOr<std::optional<RunRow>> Store::FindIntervalRun(const std::string& dag_id,
                                                             int64_t logical_date) {
  Stmt& s = db_->Cached(absl::StrCat(
      "SELECT ", kRunCols,
      " FROM runs WHERE dag_id = ? AND logical_date = ? AND run_type IN ('scheduled', "
      "'backfill')"));
  s.Bind(1, dag_id).Bind(2, logical_date);
  return FirstRow(s, ReadRun);
}

absl::StatusOr<std::optional<int64_t>> Store::LatestLogicalDate(const std::string& dag_id,
                                                                const std::string& run_type) {
  Stmt& s = db_->Cached(
      "SELECT max(logical_date) FROM runs WHERE dag_id = ? AND run_type = ?");
  ResetOnExit reset_on_exit(s);
  s.Bind(1, dag_id).Bind(2, run_type);
  DE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row || s.IsNull(0)) return std::nullopt;
  return s.Int(0);
}

absl::Status Store::SetRunBackfill(const std::string& run_id, const std::string& backfill_id) {
  return db_->Cached("UPDATE runs SET backfill_id = ? WHERE run_id = ?")
      .Bind(1, backfill_id)
      .Bind(2, run_id)
      .Run();
}

absl::StatusOr<std::set<int64_t>> Store::SucceededLogicalDates(const std::string& dag_id,
                                                               const std::string& task_id,
                                                               int64_t from, int64_t to) {
  Stmt& s = task_id.empty()
                ? db_->Cached("SELECT DISTINCT logical_date FROM runs WHERE dag_id = ?1 AND "
                              "state = 'success' AND logical_date >= ?2 AND logical_date < ?3")
                : db_->Cached(
                      "SELECT DISTINCT r.logical_date FROM runs r JOIN task_instances t ON "
                      "t.run_id = r.run_id WHERE r.dag_id = ?1 AND t.task_id = ?4 AND "
                      "t.state = 'success' AND r.logical_date >= ?2 AND r.logical_date < ?3");
  s.Bind(1, dag_id).Bind(2, from).Bind(3, to);
  if (!task_id.empty()) s.Bind(4, task_id);
  std::set<int64_t> out;
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.insert(s.Int(0));
  }
  return out;
}

absl::StatusOr<std::optional<RunRow>> Store::PreviousRun(const std::string& dag_id,
                                                         int64_t logical_date) {
  Stmt& s = db_->Cached(absl::StrCat(
      "SELECT ", kRunCols,
      " FROM runs WHERE dag_id = ? AND logical_date < ? ORDER BY logical_date DESC, "
      "created_at DESC LIMIT 1"));
  s.Bind(1, dag_id).Bind(2, logical_date);
  return FirstRow(s, ReadRun);
}

}  // namespace de::store
