// Which alerts a scheduler event stands for: the mapping from sched::Event to the `on:` names of
// DAG alert rules, and the store lookup behind `recovered`. Pure functions (and one read through
// the caller's Db); thread-safe given the Db rule.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/dag/dag.h"
#include "server/sched/events.h"
#include "server/store/sqlite.h"

namespace de::alerts {

// The `on:` names an event fires, without `recovered` (which needs the store):
//   run state -> failed: failure; run state -> success: success; task state -> failed:
//   task_failure; retry: retry; lease lost: lease_lost; deadline miss: deadline_miss;
//   wait timeout: wait_timeout. Anything else fires nothing. An instance of a for_each task
//   (TASK[i]) failing fires nothing: its mapped task fires one task_failure when it fails as a
//   whole (FindFailedInstances says which instances), so 1,000 failed instances page once.
std::vector<std::string> AlertEventsOf(const sched::Event& e);

// The failed instances of mapped task `task` of run `run_id`, by map index.
struct FailedInstances {
  int count = 0;
  std::vector<std::string> first;   // "a[3] (exit code 1)", at most `limit`
  std::string first_id;             // "a[3]" and its try: whose log the alert quotes
  int first_try = 0;
};
absl::StatusOr<FailedInstances> FindFailedInstances(store::Db* db, const std::string& run_id,
                                                    const std::string& task, int limit = 5);

// Whether `rule` fires on `event`.
bool Subscribed(const dag::AlertSpec& rule, const std::string& event);

// For run `run_id` of `dag_id` that just succeeded: the DAG's failed runs that finished since its
// previous successful run (newest first, at most `limit`; cancelled runs are skipped). Non-empty
// means this success is a recovery. `run_id` itself is ignored.
absl::StatusOr<std::vector<std::string>> FailedRunsSinceLastSuccess(store::Db* db,
                                                                    const std::string& dag_id,
                                                                    const std::string& run_id,
                                                                    int limit = 20);

}  // namespace de::alerts
