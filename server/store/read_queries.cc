#include "server/store/read_queries.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace de::store {
namespace {

// Header columns of a run, read by ReadRunHeader (conf is left out: the lists do not show it).
constexpr char kHeaderCols[] =
    "run_id, dag_id, dag_version, run_type, state, logical_date, interval_start, interval_end, "
    "reason, coalesce(backfill_id, ''), created_at, coalesce(started_at, 0), coalesce(ended_at, 0), "
    "coalesce(deadline_at, 0), coalesce(deadline_missed_at, 0)";

void ReadRunHeader(const Stmt& s, v1::Run* r) {
  r->set_run_id(s.Text(0));
  r->set_dag_id(s.Text(1));
  r->set_dag_version(static_cast<int>(s.Int(2)));
  r->set_run_type(s.Text(3));
  r->set_state(s.Text(4));
  r->set_logical_date_ms(s.Int(5));
  r->set_data_interval_start_ms(s.Int(6));
  r->set_data_interval_end_ms(s.Int(7));
  r->set_reason(s.Text(8));
  r->set_backfill_id(s.Text(9));
  r->set_created_at_ms(s.Int(10));
  r->set_started_at_ms(s.Int(11));
  r->set_ended_at_ms(s.Int(12));
  r->set_deadline_ms(s.Int(13));
  r->set_deadline_missed_at_ms(s.Int(14));
}

}  // namespace

absl::StatusOr<Store*> ReadQueries::Reader() {
  if (reader_ == nullptr) {
    DE_ASSIGN_OR_RETURN(reader_, Store::Open(db_path_));
  }
  return reader_.get();
}

absl::StatusOr<std::map<std::string, DagRecent>> ReadQueries::RecentRuns(int per_dag) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(Store * reader, Reader());
  ReadTransaction snapshot(reader->db());
  std::map<std::string, DagRecent> out;
  {
    Stmt& s = reader->db()->Cached(absl::StrCat(
        "SELECT ", kHeaderCols,
        " FROM (SELECT *, row_number() OVER (PARTITION BY dag_id ORDER BY logical_date DESC, "
        "created_at DESC) AS n FROM runs) AS ranked WHERE n <= ?1 ORDER BY dag_id, n"));
    ResetOnExit reset(s);
    s.Bind(1, per_dag);
    while (true) {
      DE_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      v1::Run r;
      ReadRunHeader(s, &r);
      out[r.dag_id()].runs.push_back(std::move(r));
    }
  }
  DE_ASSIGN_OR_RETURN(auto last, reader->LastSuccessTimes());
  for (const auto& [dag, at] : last) out[dag].last_success_at = at;
  return out;
}

absl::StatusOr<std::vector<v1::Run>> ReadQueries::RunsWithTasks(const std::string& dag_id,
                                                                const std::string& state,
                                                                int limit) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(Store * reader, Reader());
  ReadTransaction snapshot(reader->db());
  std::vector<v1::Run> runs;
  std::map<std::string, size_t> index;
  {
    Stmt& s = reader->db()->Cached(absl::StrCat(
        "SELECT ", kHeaderCols,
        " FROM runs WHERE dag_id = ?1 AND (?2 = '' OR state = ?2) "
        "ORDER BY logical_date DESC, created_at DESC LIMIT ?3"));
    ResetOnExit reset(s);
    s.Bind(1, dag_id).Bind(2, state).Bind(3, limit);
    while (true) {
      DE_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      runs.emplace_back();
      ReadRunHeader(s, &runs.back());
      index[runs.back().run_id()] = runs.size() - 1;
    }
  }
  if (runs.empty()) return runs;
  // One pass over the task instances of those runs (the primary key starts with run_id).
  Stmt& s = reader->db()->Cached(
      "SELECT t.run_id, t.task_id, t.state, t.try_number, t.max_tries, coalesce(t.queued_at, 0), "
      "coalesce(t.started_at, 0), coalesce(t.ended_at, 0), t.worker, coalesce(t.next_retry_at, 0) "
      "FROM task_instances t JOIN (SELECT run_id FROM runs WHERE dag_id = ?1 AND "
      "(?2 = '' OR state = ?2) ORDER BY logical_date DESC, created_at DESC LIMIT ?3) r "
      "ON t.run_id = r.run_id");
  ResetOnExit reset(s);
  s.Bind(1, dag_id).Bind(2, state).Bind(3, limit);
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    auto it = index.find(s.Text(0));
    if (it == index.end()) continue;
    v1::TaskInstance* t = runs[it->second].add_tasks();
    t->set_task_id(s.Text(1));
    t->set_state(s.Text(2));
    t->set_try_number(static_cast<int>(s.Int(3)));
    t->set_max_tries(static_cast<int>(s.Int(4)));
    t->set_queued_at_ms(s.Int(5));
    t->set_started_at_ms(s.Int(6));
    t->set_ended_at_ms(s.Int(7));
    t->set_worker(s.Text(8));
    t->set_next_retry_at_ms(s.Int(9));
  }
  return runs;
}

absl::StatusOr<ActiveCounts> ReadQueries::CountActive() {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(Store * reader, Reader());
  ReadTransaction snapshot(reader->db());
  ActiveCounts out;
  {
    Stmt& s = reader->db()->Cached(
        "SELECT state, count(*) FROM runs WHERE state IN ('waiting', 'queued', 'running') "
        "GROUP BY state");
    ResetOnExit reset(s);
    while (true) {
      DE_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.runs_by_state[s.Text(0)] = static_cast<int>(s.Int(1));
    }
  }
  Stmt& s = reader->db()->Cached(
      "SELECT t.state, count(*) FROM runs r JOIN task_instances t ON t.run_id = r.run_id "
      "WHERE r.state IN ('waiting', 'queued', 'running') GROUP BY t.state");
  ResetOnExit reset(s);
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.tasks_by_state[s.Text(0)] = static_cast<int>(s.Int(1));
  }
  return out;
}

}  // namespace de::store
