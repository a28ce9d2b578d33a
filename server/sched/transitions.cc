// The one place where run and task-instance states change: checked against the transition table
// (states.h), written to the store inside the caller's transaction, logged with dag, run, task and
// attempt, and emitted as an Event to the listeners (OnEvent now, OnCommitted after the commit).
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/sched/scheduler.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::ToMillis;

}  // namespace

Event Scheduler::RunEvent(const ActiveRun& run, EventKind kind) const {
  Event e;
  e.kind = kind;
  e.at_ms = ToMillis(clock_->Now());
  e.dag = run.row.dag_id;
  e.dag_version = run.row.dag_version;
  e.run_id = run.row.run_id;
  e.run_type = run.row.run_type;
  e.logical_date_ms = run.row.logical_date;
  e.interval_start_ms = run.row.interval_start;
  e.interval_end_ms = run.row.interval_end;
  e.to_state = Name(run.state);
  e.reason = run.row.reason;
  e.deadline_ms = run.row.deadline_at;
  return e;
}

Event Scheduler::TaskEvent(const ActiveRun& run, int task, EventKind kind) const {
  Event e = RunEvent(run, kind);
  const TaskState& ts = run.tasks[task];
  e.task = ts.spec->id;
  e.try_number = ts.row.try_number;
  e.attempt_id = ts.last_attempt_id;
  e.worker = ts.row.worker;
  e.pool = ts.spec->pool;
  e.to_state = Name(ts.state);
  e.reason = ts.row.error;
  e.deadline_ms = ts.row.deadline_at;
  return e;
}

absl::Status Scheduler::Emit(Event e) {
  for (EventListener* l : listeners_) DE_RETURN_IF_ERROR(l->OnEvent(e, store_->db()));
  if (!listeners_.empty()) pending_events_.push_back(std::move(e));
  return absl::OkStatus();
}

absl::Status Scheduler::TransitionTask(ActiveRun& run, int task, TiState to, EventKind kind) {
  TaskState& ts = run.tasks[task];
  const TiState from = ts.state;
  if (!IsLegal(from, to)) {
    return absl::InternalError(absl::StrCat("illegal task transition ", Name(from), " -> ",
                                            Name(to), " (run ", run.row.run_id, ", task ",
                                            ts.spec->id, ")"));
  }
  store::TaskInstanceRow& row = ts.row;
  const int64_t now = ToMillis(clock_->Now());
  run.unfinished += static_cast<int>(IsFinished(from)) - static_cast<int>(IsFinished(to));
  if (ts.map_parent >= 0) NoteInstanceTransition(run, ts.map_parent, from, to);
  ts.state = to;
  row.state = Name(to);
  const int64_t queued_at = row.queued_at;
  if (to == TiState::kQueued) {
    row.queued_at = now;
    row.next_retry_at = 0;
  }
  if (IsFinished(to)) row.ended_at = now;
  DE_RETURN_IF_ERROR(store_->UpdateTaskInstance(row));
  const bool quiet = to == TiState::kQueued || to == TiState::kRunning ||
                     to == TiState::kScheduled || to == TiState::kUpstreamFailed;
  if (quiet) {
    SPDLOG_DEBUG("dag={} run={} task={} attempt={} try={} {} -> {}", run.row.dag_id, run.row.run_id,
                 row.task_id, ts.last_attempt_id, row.try_number, Name(from), Name(to));
  } else {
    spdlog::info("dag={} run={} task={} attempt={} try={} {} -> {}{}{}", run.row.dag_id,
                 run.row.run_id, row.task_id, ts.last_attempt_id, row.try_number, Name(from),
                 Name(to), row.error.empty() ? "" : ": ", row.error);
  }
  if (listeners_.empty()) return absl::OkStatus();
  Event e = TaskEvent(run, task, kind);
  e.from_state = Name(from);
  if (to == TiState::kRunning && queued_at > 0) {
    e.timings_ms["scheduling_delay"] = now - queued_at;
  }
  if (IsFinished(to) && from == TiState::kRunning && row.started_at > 0) {
    e.timings_ms["duration"] = now - row.started_at;
  }
  if (to == TiState::kSuccess || to == TiState::kFailed || to == TiState::kUpForRetry) {
    e.counters = row.counters;
  }
  return Emit(std::move(e));
}

absl::Status Scheduler::TransitionRun(ActiveRun& run, RunState to) {
  const RunState from = run.state;
  if (!IsLegal(from, to)) {
    return absl::InternalError(absl::StrCat("illegal run transition ", Name(from), " -> ", Name(to),
                                            " (run ", run.row.run_id, ")"));
  }
  const int64_t now = ToMillis(clock_->Now());
  run.state = to;
  run.row.state = Name(to);
  if (to == RunState::kRunning && run.row.started_at == 0) run.row.started_at = now;
  if (IsFinished(to)) {
    run.row.ended_at = now;
    if (run.row.started_at == 0) run.row.started_at = now;
  }
  if (to == RunState::kRunning) ComputeDeadlines(run);  // run_start anchors are known now
  DE_RETURN_IF_ERROR(store_->UpdateRun(run.row));
  if (IsFinished(to)) {
    spdlog::info("dag={} run={} {} -> {}{}{}", run.row.dag_id, run.row.run_id, Name(from), Name(to),
                 run.row.reason.empty() ? "" : ": ", run.row.reason);
  } else {
    spdlog::info("dag={} run={} {} -> {}", run.row.dag_id, run.row.run_id, Name(from), Name(to));
  }
  if (listeners_.empty()) return absl::OkStatus();
  Event e = RunEvent(run, EventKind::kRunState);
  e.from_state = Name(from);
  if (to == RunState::kRunning) {
    e.timings_ms["queue_wait"] = now - run.row.created_at;
    if (run.row.interval_end > 0) e.timings_ms["start_delay"] = now - run.row.interval_end;
  }
  if (IsFinished(to)) e.timings_ms["duration"] = run.row.ended_at - run.row.started_at;
  return Emit(std::move(e));
}

absl::Status Scheduler::EmitRunCreated(ActiveRun& run) {
  spdlog::info("dag={} run={} created ({}, {})", run.row.dag_id, run.row.run_id, run.row.run_type,
               Name(run.state));
  if (listeners_.empty()) return absl::OkStatus();
  return Emit(RunEvent(run, EventKind::kRunState));
}

}  // namespace de::sched
