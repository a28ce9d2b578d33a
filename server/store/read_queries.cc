#include "server/store/read_queries.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
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

absl::Status ReadLatestRuns(Store* reader, const std::string& dag_id, const std::string& state,
                            int limit, std::vector<v1::Run>* runs,
                            absl::flat_hash_map<std::string, size_t>* index);

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
  // DAG by DAG along the runs_by_dag index: one window over every run read the whole history
  // (100,000 runs: 250 ms) for a page that shows the latest 20 of each DAG.
  DE_ASSIGN_OR_RETURN(auto dags, reader->ListDags());
  for (const auto& d : dags) {
    std::vector<v1::Run> runs;
    DE_RETURN_IF_ERROR(ReadLatestRuns(reader, d.dag_id, "", per_dag, &runs, nullptr));
    if (!runs.empty()) out[d.dag_id].runs = std::move(runs);
  }
  DE_ASSIGN_OR_RETURN(auto last, reader->LastSuccessTimes());
  for (const auto& [dag, at] : last) out[dag].last_success_at = at;
  return out;
}

namespace {

// The latest `limit` runs of `dag_id` (headers), newest first, and (if `index`) run_id ->
// position.
absl::Status ReadLatestRuns(Store* reader, const std::string& dag_id, const std::string& state,
                            int limit, std::vector<v1::Run>* runs,
                            absl::flat_hash_map<std::string, size_t>* index) {
  Stmt& s = reader->db()->Cached(absl::StrCat(
      "SELECT ", kHeaderCols,
      " FROM runs WHERE dag_id = ?1 AND (?2 = '' OR state = ?2) "
      "ORDER BY logical_date DESC, created_at DESC LIMIT ?3"));
  ResetOnExit reset(s);
  s.Bind(1, dag_id).Bind(2, state).Bind(3, limit);
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    runs->emplace_back();
    ReadRunHeader(s, &runs->back());
    if (index != nullptr) (*index)[runs->back().run_id()] = runs->size() - 1;
  }
  return absl::OkStatus();
}

// Calls fn(stmt) for every task instance of the runs ReadLatestRuns read (same snapshot), one
// pass (the primary key starts with run_id). Columns: run_id, task_id, state, try_number,
// max_tries, queued_at, started_at, ended_at, worker, next_retry_at (0 for NULL times).
template <typename Fn>
absl::Status ForEachLatestTask(Store* reader, const std::string& dag_id, const std::string& state,
                               int limit, Fn fn) {
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
    fn(s);
  }
  return absl::OkStatus();
}

struct GridCell {
  std::string state;
  int tries = 0, max_tries = 0;
  int64_t duration_ms = -1;
  v1::MapCounts map;   // a for_each task's instances
};

// How bad a state looks in the grid: a mapped task's cell takes its worst instance's colour.
int Badness(const std::string& state) {
  static const char* const kOrder[] = {"success", "skipped", "cancelled", "scheduled", "queued",
                                       "running", "up_for_retry", "upstream_failed", "failed"};
  for (int i = 0; i < 9; ++i) {
    if (state == kOrder[i]) return i;
  }
  return 0;
}

// Instance `id` ("a[3]") in `state` counted into its mapped task's cell ("a"); an instance of a
// task the grid has no row for is left out.
void CountInstance(const std::string& id, const std::string& state,
                   const absl::flat_hash_map<std::string, int>& row_of,
                   std::vector<GridCell>* col) {
  auto at = row_of.find(id.substr(0, id.find('[')));
  if (at == row_of.end() || static_cast<size_t>(at->second) >= col->size()) return;
  v1::MapCounts& m = (*col)[at->second].map;
  m.set_instances(m.instances() + 1);
  ++(*m.mutable_by_state())[state];
  if (m.worst_state().empty() || Badness(state) > Badness(m.worst_state())) {
    m.set_worst_state(state);
  }
}

// The cells of run `run_id`, at their rows in `row_of` (a task not there yet gets a new row at
// the end of grid->task_ids). One indexed lookup reading only what a cell shows: cheaper than a
// join that hands back every run id with every row.
absl::Status ReadGridCells(Store* reader, const std::string& run_id, int64_t now_ms,
                           absl::flat_hash_map<std::string, int>* row_of, v1::Grid* grid,
                           std::vector<GridCell>* col) {
  Stmt& s = reader->db()->Cached(
      "SELECT task_id, state, try_number, max_tries, coalesce(started_at, 0), "
      "coalesce(ended_at, 0), map_index IS NOT NULL FROM task_instances WHERE run_id = ?1");
  ResetOnExit reset(s);
  s.Bind(1, run_id);
  // A for_each task's own row is its cell; its instances are counted into it once every row
  // is known (an instance may come before its task).
  std::vector<std::pair<std::string, std::string>> instances;
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    std::string task = s.Text(0);
    if (s.Int(6) != 0) {
      instances.emplace_back(std::move(task), s.Text(1));
      continue;
    }
    auto at = row_of->find(task);
    if (at == row_of->end()) {
      at = row_of->emplace(task, grid->task_ids_size()).first;
      grid->add_task_ids(std::move(task));
    }
    if (col->size() <= static_cast<size_t>(at->second)) col->resize(at->second + 1);
    GridCell& c = (*col)[at->second];
    c.state = s.Text(1);
    c.tries = static_cast<int>(s.Int(2));
    c.max_tries = static_cast<int>(s.Int(3));
    const int64_t started = s.Int(4), ended = s.Int(5);
    if (started > 0) c.duration_ms = std::max<int64_t>(0, (ended > 0 ? ended : now_ms) - started);
  }
  for (const auto& [id, state] : instances) CountInstance(id, state, *row_of, col);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<v1::Run>> ReadQueries::RunsWithTasks(const std::string& dag_id,
                                                                const std::string& state,
                                                                int limit) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(Store * reader, Reader());
  ReadTransaction snapshot(reader->db());
  std::vector<v1::Run> runs;
  absl::flat_hash_map<std::string, size_t> index;
  DE_RETURN_IF_ERROR(ReadLatestRuns(reader, dag_id, state, limit, &runs, &index));
  if (runs.empty()) return runs;
  absl::Status read = ForEachLatestTask(reader, dag_id, state, limit, [&](const Stmt& s) {
    auto it = index.find(s.Text(0));
    if (it == index.end()) return;
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
  });
  if (!read.ok()) return read;
  return runs;
}

absl::StatusOr<v1::Grid> ReadQueries::Grid(const std::string& dag_id, const std::string& state,
                                           int limit, const std::vector<std::string>& task_order,
                                           int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(Store * reader, Reader());
  ReadTransaction snapshot(reader->db());
  std::vector<v1::Run> runs;
  DE_RETURN_IF_ERROR(ReadLatestRuns(reader, dag_id, state, limit, &runs, nullptr));
  v1::Grid grid;
  absl::flat_hash_map<std::string, int> row_of;
  for (const auto& t : task_order) {
    if (row_of.emplace(t, grid.task_ids_size()).second) grid.add_task_ids(t);
  }
  std::vector<std::vector<GridCell>> cells(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    DE_RETURN_IF_ERROR(ReadGridCells(reader, runs[i].run_id(), now_ms, &row_of, &grid, &cells[i]));
  }
  // Every column padded to the row count, now that all rows (tasks) are known.
  const size_t rows = grid.task_ids_size();
  for (size_t i = 0; i < runs.size(); ++i) {
    v1::GridColumn* col = grid.add_columns();
    *col->mutable_run() = std::move(runs[i]);
    cells[i].resize(rows);
    for (const GridCell& c : cells[i]) {
      col->add_states(c.state);
      col->add_tries(c.tries);
      col->add_max_tries(c.max_tries);
      col->add_duration_ms(c.duration_ms);
      *col->add_map_counts() = c.map;
    }
  }
  return grid;
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
