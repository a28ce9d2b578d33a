// The scheduler's persistent history: DAG versions, runs, task instances, attempts, workers, in
// SQLite (WAL). Typed rows in, typed rows out. Not thread-safe: the scheduler calls it under its
// lock. Callers group writes with Transaction(db()) so a state change commits as one unit.
// Implementation, one concept per file: store.cc (open, DAGs, workers), store_runs.cc (runs and
// interval queries), store_tasks.cc (task instances, attempts), store_backfills.cc, and rows.h
// (decoding rows; corrupt stored JSON is DataLoss).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/store/sqlite.h"

namespace de::store {

struct DagRow {
  std::string dag_id;
  int latest_version = 0;
  bool paused = false;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct DagVersionRow {
  std::string dag_id;
  int version = 0;
  std::string yaml;
  std::string source;
  int64_t created_at = 0;
};

struct RunRow {
  std::string run_id;
  std::string dag_id;
  int dag_version = 0;
  std::string run_type;   // manual scheduled backfill
  std::string state;      // waiting queued running success failed cancelled
  int64_t logical_date = 0;
  int64_t interval_start = 0;
  int64_t interval_end = 0;
  std::map<std::string, std::string> conf;
  std::string reason;
  std::string backfill_id;
  int64_t created_at = 0;
  int64_t started_at = 0;
  int64_t ended_at = 0;
  int64_t deadline_at = 0;          // 0 = none (yet)
  int64_t deadline_missed_at = 0;   // 0 = not missed
};

struct TaskInstanceRow {
  std::string run_id;
  std::string task_id;
  std::string state;
  int try_number = 0;
  int max_tries = 1;
  int lost_count = 0;
  int64_t next_retry_at = 0;
  int64_t queued_at = 0;
  int64_t started_at = 0;
  int64_t ended_at = 0;
  std::string worker;
  std::string error;
  std::map<std::string, int64_t> counters;
  int64_t deadline_at = 0;          // 0 = none (yet)
  int64_t deadline_missed_at = 0;   // 0 = not missed
  int map_index = -1;               // an instance of a for_each task ("TASK[i]"): i; else -1
  std::string map_item;             // that instance's item
};

struct AttemptRow {
  int64_t attempt_id = 0;
  std::string run_id;
  std::string task_id;
  int try_number = 0;
  std::string worker;
  std::string state;      // running success failed timed_out lost cancelled
  int64_t started_at = 0;
  int64_t ended_at = 0;
  std::optional<int> exit_code;
  std::string error;
};

struct BackfillRow {
  std::string backfill_id;
  std::string dag_id;
  int dag_version = 0;
  int64_t from_date = 0;
  int64_t to_date = 0;
  std::string rerun = "none";
  bool reverse = false;
  int max_active = 1;
  std::map<std::string, std::string> conf;
  std::string state;
  int total = 0;
  int cursor = 0;
  int kept = 0;
  int64_t created_at = 0;
  int64_t ended_at = 0;
};

// A run whose stored rows do not decode (DataLoss): its id and why.
struct UnreadableRun {
  std::string run_id;
  absl::Status error;
};

// What a history clean touches (store_clean.cc): runs and the rows that belong to them.
struct HistoryCounts {
  int64_t runs = 0;
  int64_t task_instances = 0;
  int64_t attempts = 0;
  int64_t alerts = 0;   // alert_outbox rows of those runs (never a pending one)
};

struct WorkerRow {
  std::string name;
  int slots = 0;
  std::vector<std::string> pools;
  std::string version;
  int64_t first_seen = 0;
  int64_t last_seen = 0;
  std::string state;
};

class Store {
 public:
  // Opens `path`, applies the embedded migrations (refusing a newer schema).
  // `defer_sync`: see Db::Open (the scheduler's own store).
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     bool defer_sync = false);

  Db* db() { return db_.get(); }

  // DAGs.
  absl::StatusOr<std::optional<DagRow>> GetDag(const std::string& dag_id);
  absl::StatusOr<std::vector<DagRow>> ListDags();
  absl::StatusOr<std::optional<DagVersionRow>> GetDagVersion(const std::string& dag_id,
                                                             int version);
  absl::StatusOr<std::vector<int>> ListDagVersions(const std::string& dag_id);
  // Inserts version row and creates/updates the dags row's latest_version.
  absl::Status InsertDagVersion(const DagVersionRow& row);
  absl::Status SetPaused(const std::string& dag_id, bool paused, int64_t now);
  // Deletes the DAG with all its versions and history; returns the number of runs deleted.
  absl::StatusOr<int> DeleteDag(const std::string& dag_id);

  // Runs.
  absl::Status InsertRun(const RunRow& row);
  // state, reason, started_at, ended_at, deadline_at, deadline_missed_at
  absl::Status UpdateRun(const RunRow& row);
  absl::StatusOr<std::optional<RunRow>> GetRun(const std::string& run_id);
  absl::StatusOr<bool> RunExists(const std::string& run_id);
  // Newest first (by logical date, then creation).
  absl::StatusOr<std::vector<RunRow>> ListRuns(const std::string& dag_id, const std::string& state,
                                               int limit);
  // Oldest first; fails on the first row that does not decode.
  absl::StatusOr<std::vector<RunRow>> ListUnfinishedRuns();
  // The same, but a run whose row does not decode is left out and listed in `unreadable`, so one
  // corrupt row does not hide the others.
  absl::StatusOr<std::vector<RunRow>> ListUnfinishedRuns(std::vector<UnreadableRun>* unreadable);
  // Ends a run that cannot be loaded as failed at `now` with `reason`: its unfinished task
  // instances failed, its running attempts lost. A conf that does not decode is cleared (the
  // reason says what it was), so the run can be read and shown again.
  absl::Status FailUnloadableRun(const std::string& run_id, const std::string& reason,
                                 int64_t now);
  // Per DAG: when its latest successful run ended (ms).
  absl::StatusOr<std::map<std::string, int64_t>> LastSuccessTimes();

  // The scheduled-or-backfill run of `dag_id` for the interval starting at `logical_date`.
  absl::StatusOr<std::optional<RunRow>> FindIntervalRun(const std::string& dag_id,
                                                        int64_t logical_date);
  // Latest logical date of a run of `run_type` for the DAG, or nullopt.
  absl::StatusOr<std::optional<int64_t>> LatestLogicalDate(const std::string& dag_id,
                                                           const std::string& run_type);
  absl::Status SetRunBackfill(const std::string& run_id, const std::string& backfill_id);
  // Logical dates in [from, to) of the DAG's successful runs (or, with task_id, of runs whose
  // task succeeded).
  absl::StatusOr<std::set<int64_t>> SucceededLogicalDates(const std::string& dag_id,
                                                          const std::string& task_id,
                                                          int64_t from, int64_t to);
  // The run of the DAG with the greatest logical date before `logical_date`, if any.
  absl::StatusOr<std::optional<RunRow>> PreviousRun(const std::string& dag_id,
                                                    int64_t logical_date);
  absl::StatusOr<std::optional<TaskInstanceRow>> GetTaskInstance(const std::string& run_id,
                                                                 const std::string& task_id);

  // Backfills.
  absl::Status InsertBackfill(const BackfillRow& row);
  absl::Status UpdateBackfill(const BackfillRow& row);   // state, cursor, kept, ended_at
  absl::StatusOr<std::optional<BackfillRow>> GetBackfill(const std::string& backfill_id);
  absl::StatusOr<std::vector<BackfillRow>> ListBackfills(const std::string& dag_id);
  absl::StatusOr<std::map<std::string, int>> BackfillRunStates(const std::string& backfill_id);

  // Task instances.
  absl::Status InsertTaskInstance(const TaskInstanceRow& row);
  absl::Status UpdateTaskInstance(const TaskInstanceRow& row);
  absl::StatusOr<std::vector<TaskInstanceRow>> ListTaskInstances(const std::string& run_id);

  // Attempts.
  absl::StatusOr<int64_t> InsertAttempt(const AttemptRow& row);   // returns attempt_id
  absl::Status UpdateAttempt(const AttemptRow& row);              // state, ended_at, exit_code, error
  absl::StatusOr<std::vector<AttemptRow>> ListAttempts(const std::string& run_id);
  absl::StatusOr<std::optional<AttemptRow>> GetAttempt(int64_t attempt_id);

  // History retention (dectl db clean; store_clean.cc). A run is cleanable when it finished
  // (success, failed, cancelled) and ended before `ended_before`, and is not its DAG's latest
  // scheduled run (the schedule resumes after that one's interval, even for a DAG paused for
  // longer than the retention). `dag_id` empty: every DAG. Oldest end first.
  absl::StatusOr<std::vector<std::string>> ListCleanableRuns(int64_t ended_before,
                                                             const std::string& dag_id);
  // The rows of the given runs (at most a few hundred at a time).
  absl::StatusOr<HistoryCounts> CountRunHistory(const std::vector<std::string>& run_ids);
  // Deletes those of the given runs that are still finished and ended before `ended_before`,
  // with their task instances, attempts and alert deliveries (pending ones stay); `deleted`
  // gets their ids. Call inside a Transaction.
  absl::StatusOr<HistoryCounts> DeleteRunHistory(const std::vector<std::string>& run_ids,
                                                 int64_t ended_before,
                                                 std::vector<std::string>* deleted);

  // Workers.
  absl::Status UpsertWorker(const WorkerRow& row);
  absl::StatusOr<std::vector<WorkerRow>> ListWorkers();

 private:
  explicit Store(std::unique_ptr<Db> db) : db_(std::move(db)) {}
  std::unique_ptr<Db> db_;
};

}  // namespace de::store
