#include "server/alerts/rules.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/sched/scheduler.h"

namespace de::alerts {

std::vector<std::string> AlertEventsOf(const sched::Event& e) {
  switch (e.kind) {
    case sched::EventKind::kRunState:
      if (e.to_state == "failed") return {"failure"};
      if (e.to_state == "success") return {"success"};
      return {};
    case sched::EventKind::kTaskState:
      if (e.to_state == "failed" && !sched::ParseMappedInstanceId(e.task)) return {"task_failure"};
      return {};
    case sched::EventKind::kRetry:
      return {"retry"};
    case sched::EventKind::kLeaseLost:
      return {"lease_lost"};
    case sched::EventKind::kDeadlineMiss:
      return {"deadline_miss"};
    case sched::EventKind::kWaitTimeout:
      return {"wait_timeout"};
  }
  return {};
}

bool Subscribed(const dag::AlertSpec& rule, const std::string& event) {
  return std::find(rule.on.begin(), rule.on.end(), event) != rule.on.end();
}

absl::StatusOr<FailedInstances> FindFailedInstances(store::Db* db, const std::string& run_id,
                                                    const std::string& task, int limit) {
  // Every failed instance of the run (of any mapped task: the prefix is matched here, as '_' in
  // a task id is a LIKE wildcard); a run has at most 10,000 per task.
  store::Stmt& s = db->Cached(
      "SELECT task_id, try_number, error FROM task_instances WHERE run_id = ? AND "
      "map_index IS NOT NULL AND state = 'failed' ORDER BY map_index, task_id");
  s.Bind(1, run_id);
  store::ResetOnExit reset(s);
  FailedInstances out;
  const std::string prefix = absl::StrCat(task, "[");
  while (true) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    std::string id = s.Text(0);
    if (!absl::StartsWith(id, prefix)) continue;
    if (out.count++ == 0) {
      out.first_id = id;
      out.first_try = static_cast<int>(s.Int(1));
    }
    if (static_cast<int>(out.first.size()) < limit) {
      const std::string error = s.Text(2);
      out.first.push_back(error.empty() ? id : absl::StrCat(id, " (", error, ")"));
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> FailedRunsSinceLastSuccess(store::Db* db,
                                                                    const std::string& dag_id,
                                                                    const std::string& run_id,
                                                                    int limit) {
  store::Stmt& s = db->Cached(
      "SELECT run_id, state FROM runs WHERE dag_id = ? AND run_id <> ? AND "
      "state IN ('success', 'failed') AND ended_at IS NOT NULL "
      "ORDER BY ended_at DESC, rowid DESC LIMIT ?");
  s.Bind(1, dag_id).Bind(2, run_id).Bind(3, limit + 1);
  store::ResetOnExit reset(s);
  std::vector<std::string> failed;
  while (static_cast<int>(failed.size()) < limit) {
    DE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row || s.Text(1) != "failed") break;
    failed.push_back(s.Text(0));
  }
  return failed;
}

}  // namespace de::alerts
