// Read-only queries of the web page's API that the Store does not have: the latest runs of every
// DAG, the task instances of a DAG's latest runs (the grid, also in a compact form), and counts for the health strip.
// Each call reads one consistent WAL snapshot through its own connection and never touches the
// scheduler (no scheduling lock). Thread-safe: a mutex guards the connection.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "de/v1/operator.pb.h"
#include "de/v1/types.pb.h"
#include "server/store/store.h"

namespace de::store {

struct DagRecent {
  std::vector<v1::Run> runs;   // newest first, headers only
  int64_t last_success_at = 0;
};

struct ActiveCounts {
  std::map<std::string, int> runs_by_state;    // waiting queued running
  std::map<std::string, int> tasks_by_state;   // task instances of those runs
};

class ReadQueries {
 public:
  explicit ReadQueries(std::string db_path) : db_path_(std::move(db_path)) {}

  // Per DAG: its latest `per_dag` runs and when its latest success ended.
  absl::StatusOr<std::map<std::string, DagRecent>> RecentRuns(int per_dag);
  // The latest `limit` runs of `dag_id` (newest first; `state` filters when not empty), each with
  // its task instances (state, tries, times, worker; no attempts).
  absl::StatusOr<std::vector<v1::Run>> RunsWithTasks(const std::string& dag_id,
                                                     const std::string& state, int limit);
  // The grid of `dag_id`: its latest `limit` runs (as RunsWithTasks) by tasks, rows in
  // `task_order` and then any task id only those runs have. Durations of running instances end
  // at `now_ms`.
  absl::StatusOr<v1::Grid> Grid(const std::string& dag_id, const std::string& state, int limit,
                                const std::vector<std::string>& task_order, int64_t now_ms);
  absl::StatusOr<ActiveCounts> CountActive();

 private:
  absl::StatusOr<Store*> Reader() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string db_path_;
  absl::Mutex mu_;
  std::unique_ptr<Store> reader_ ABSL_GUARDED_BY(mu_);
};

}  // namespace de::store
