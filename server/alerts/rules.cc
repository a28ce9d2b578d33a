#include "server/alerts/rules.h"

#include <algorithm>

#include "common/status.h"

namespace de::alerts {

std::vector<std::string> AlertEventsOf(const sched::Event& e) {
  switch (e.kind) {
    case sched::EventKind::kRunState:
      if (e.to_state == "failed") return {"failure"};
      if (e.to_state == "success") return {"success"};
      return {};
    case sched::EventKind::kTaskState:
      if (e.to_state == "failed") return {"task_failure"};
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
