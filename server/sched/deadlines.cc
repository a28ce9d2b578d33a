// Deadlines: computed when a run is created (or starts, for run_start anchors), stored with the
// run, and fired by the timer at the deadline itself whatever the run's state, once per run.
#include "server/sched/deadlines.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status.h"
#include "server/sched/scheduler.h"
#include "spdlog/spdlog.h"

namespace de::sched {

using common::FromMillis;
using common::ToMillis;

int64_t DeadlineAt(const dag::Deadline& d, const store::RunRow& run) {
  int64_t base = 0;
  switch (d.after) {
    case dag::DeadlineAnchor::kIntervalEnd:
      base = run.interval_end;
      break;
    case dag::DeadlineAnchor::kLogicalDate:
      base = run.logical_date;
      break;
    case dag::DeadlineAnchor::kRunStart:
      base = run.started_at;
      if (base == 0) return 0;
      break;
  }
  return base + absl::ToInt64Milliseconds(d.within);
}

void Scheduler::ComputeDeadlines(ActiveRun& run) {
  if (run.dag->sla && run.row.deadline_at == 0) {
    run.row.deadline_at = DeadlineAt(*run.dag->sla, run.row);
  }
  absl::Time next = absl::InfiniteFuture();
  if (run.row.deadline_at != 0 && run.row.deadline_missed_at == 0) {
    next = FromMillis(run.row.deadline_at);
  }
  for (TaskState& ts : run.tasks) {
    if (ts.spec->deadline && ts.row.deadline_at == 0 && ts.map_parent < 0) {
      // Stored with the task's next write; until then recomputed identically after a restart.
      ts.row.deadline_at = DeadlineAt(*ts.spec->deadline, run.row);
    }
    if (ts.row.deadline_at != 0 && ts.row.deadline_missed_at == 0 && !IsFinished(ts.state)) {
      next = std::min(next, FromMillis(ts.row.deadline_at));
    }
  }
  run.next_deadline = next;
}

absl::Status Scheduler::FireDeadlines(absl::Time now) {
  const int64_t now_ms = ToMillis(now);
  for (auto& [id, r] : runs_) {
    ActiveRun& run = *r;
    if (run.next_deadline > now) continue;
    if (run.row.deadline_at != 0 && run.row.deadline_missed_at == 0 &&
        run.row.deadline_at <= now_ms) {
      run.row.deadline_missed_at = now_ms;
      DE_RETURN_IF_ERROR(store_->UpdateRun(run.row));
      spdlog::warn("dag={} run={} missed its deadline {} while {}", run.row.dag_id, run.row.run_id,
                   absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromMillis(run.row.deadline_at),
                                    absl::UTCTimeZone()),
                   Name(run.state));
      Event e = RunEvent(run, EventKind::kDeadlineMiss);
      e.from_state = e.to_state;
      e.reason = absl::StrCat("deadline missed while ", Name(run.state));
      DE_RETURN_IF_ERROR(Emit(std::move(e)));
    }
    for (size_t i = 0; i < run.tasks.size(); ++i) {
      TaskState& ts = run.tasks[i];
      if (ts.row.deadline_at == 0 || ts.row.deadline_missed_at != 0 || IsFinished(ts.state) ||
          ts.row.deadline_at > now_ms) {
        continue;
      }
      ts.row.deadline_missed_at = now_ms;
      DE_RETURN_IF_ERROR(store_->UpdateTaskInstance(ts.row));
      spdlog::warn("dag={} run={} task={} attempt={} missed its deadline while {}", run.row.dag_id,
                   run.row.run_id, ts.spec->id, ts.last_attempt_id, Name(ts.state));
      Event e = TaskEvent(run, static_cast<int>(i), EventKind::kDeadlineMiss);
      e.from_state = e.to_state;
      e.reason = absl::StrCat("task deadline missed while ", Name(ts.state));
      DE_RETURN_IF_ERROR(Emit(std::move(e)));
    }
    ComputeDeadlines(run);
  }
  return absl::OkStatus();
}

}  // namespace de::sched
