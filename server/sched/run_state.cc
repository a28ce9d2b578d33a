// The run state machine: starting runs under max_active_runs, queueing ready tasks (by their
// trigger rules, server/sched/trigger_rules.h), ending attempts (retry, lost, fail, succeed),
// failing or skipping downstream tasks, finishing runs.
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/sched/scheduler.h"
#include "server/sched/trigger_rules.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::FromMillis;
using common::ToMillis;

absl::Duration RetryDelay(const dag::RetryPolicy& p, int failures) {
  if (p.backoff == dag::Backoff::kFixed) return p.retry_delay;
  double factor = std::pow(2.0, std::max(0, failures - 1));
  absl::Duration d = p.retry_delay * factor;
  return std::min(d, p.max_retry_delay);
}

}  // namespace

void Scheduler::Enqueue(ActiveRun& run, int task) {
  const auto& row = run.tasks[task].row;
  ready_.insert(ReadyKey{run.row.run_type == "backfill" ? 1 : 0, -run.tasks[task].spec->priority,
                         row.queued_at, seq_++, run.row.run_id, task});
}

absl::Status Scheduler::StartRunIfAllowed(ActiveRun& run) {
  if (run.state != RunState::kQueued) return absl::OkStatus();
  // Backfill runs count against their backfill's max_active, other runs against the DAG's
  // max_active_runs: a large backfill never holds back today's scheduled runs.
  const bool backfill = run.row.run_type == "backfill";
  int limit = run.dag->max_active_runs;
  if (backfill) {
    auto bit = backfills_.find(run.row.backfill_id);
    if (bit != backfills_.end()) limit = bit->second.row.max_active;
  }
  int active = 0;
  for (const auto& [id, r] : runs_) {
    if (r->row.dag_id != run.row.dag_id || r->state != RunState::kRunning) continue;
    if ((r->row.run_type == "backfill") != backfill) continue;
    if (backfill && r->row.backfill_id != run.row.backfill_id) continue;
    ++active;
  }
  if (active >= limit) return absl::OkStatus();
  DE_RETURN_IF_ERROR(TransitionRun(run, RunState::kRunning));
  return QueueReadyTasks(run);
}

absl::Status Scheduler::PromoteQueuedRuns(const std::string& dag_id) {
  std::vector<ActiveRun*> queued;
  for (auto& [id, r] : runs_) {
    if (r->row.dag_id == dag_id && r->state == RunState::kQueued) queued.push_back(r.get());
  }
  std::sort(queued.begin(), queued.end(), [](const ActiveRun* a, const ActiveRun* b) {
    return std::tie(a->row.logical_date, a->row.created_at, a->row.run_id) <
           std::tie(b->row.logical_date, b->row.created_at, b->row.run_id);
  });
  for (ActiveRun* r : queued) {
    DE_RETURN_IF_ERROR(StartRunIfAllowed(*r));
    if (r->state == RunState::kQueued) break;  // at the limit
  }
  return absl::OkStatus();
}

absl::Status Scheduler::OnTaskSucceeded(ActiveRun& run, int task) {
  if (run.tasks[task].map_parent >= 0) return OnInstanceFinished(run, task);
  DE_RETURN_IF_ERROR(QueueReadyTasks(run, run.tasks[task].downstream));
  const std::string dag_id = run.row.dag_id;
  if (run.tasks[task].spec->depends_on_past) {
    // A later run's same task may have been held for this one.
    for (auto& [id, other] : runs_) {
      if (other.get() != &run && other->row.dag_id == dag_id &&
          other->state == RunState::kRunning) {
        DE_RETURN_IF_ERROR(QueueReadyTasks(*other));
      }
    }
  }
  DE_RETURN_IF_ERROR(MaybeFinishRun(run));
  return RecheckWaiters(dag_id);  // waits on this task
}

absl::Status Scheduler::QueueReadyTasks(ActiveRun& run) {
  std::vector<int> all(run.tasks.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return QueueReadyTasks(run, all);
}

absl::Status Scheduler::QueueReadyTasks(ActiveRun& run, const std::vector<int>& candidates) {
  if (run.state != RunState::kRunning) return absl::OkStatus();
  // A task ended by its rule decides its own downstream tasks in turn (appended to `work`).
  std::vector<int> work(candidates);
  bool ended = false;
  for (size_t k = 0; k < work.size(); ++k) {
    const int i = work[k];
    TaskState& ts = run.tasks[i];
    if (ts.state != TiState::kScheduled) continue;
    if (ts.map_parent >= 0) continue;   // an instance: admitted by its for_each task
    UpstreamCounts up;
    for (int u : ts.upstream) up.Add(run.tasks[u].state);
    const RuleVerdict verdict = EvaluateTriggerRule(ts.spec->trigger_rule, up);
    if (verdict == RuleVerdict::kWait) continue;
    if (verdict != RuleVerdict::kRun) {
      DE_RETURN_IF_ERROR(TransitionTask(
          run, i, verdict == RuleVerdict::kSkip ? TiState::kSkipped : TiState::kUpstreamFailed));
      work.insert(work.end(), ts.downstream.begin(), ts.downstream.end());
      ended = true;
      continue;
    }
    if (ts.spec->depends_on_past) {
      DE_ASSIGN_OR_RETURN(bool past_ok, PastAllows(run, i));
      if (!past_ok) continue;
    }
    if (ts.spec->for_each && ts.map_parent < 0) {
      DE_RETURN_IF_ERROR(StartMapped(run, i));
      continue;
    }
    DE_RETURN_IF_ERROR(TransitionTask(run, i, TiState::kQueued));
    Enqueue(run, i);
  }
  // The tasks a rule ended may have been the run's last (e.g. a cleared all_failed task).
  return ended ? MaybeFinishRun(run) : absl::OkStatus();
}

absl::StatusOr<bool> Scheduler::PastAllows(const ActiveRun& run, int task) {
  DE_ASSIGN_OR_RETURN(auto prev, store_->PreviousRun(run.row.dag_id, run.row.logical_date));
  if (!prev) return true;
  const std::string& task_id = run.tasks[task].spec->id;
  // The previous run may be in memory with newer state than a read would show mid-transaction;
  // reads see this connection's writes, so the store is authoritative.
  DE_ASSIGN_OR_RETURN(auto ti, store_->GetTaskInstance(prev->run_id, task_id));
  if (!ti) return true;  // the task did not exist in that run's DAG version
  std::optional<TiState> past = ParseTiState(ti->state);
  return past && IsSatisfying(*past);
}

absl::Status Scheduler::OnTaskFailedFinal(ActiveRun& run, int task) {
  DE_RETURN_IF_ERROR(TransitionTask(run, task, TiState::kFailed));
  if (run.tasks[task].map_parent >= 0) return OnInstanceFinished(run, task);
  // Downstream tasks go by their trigger rules: upstream_failed (all_success, the default), or
  // queued (all_done, one_failed, ...), and so on further down.
  DE_RETURN_IF_ERROR(QueueReadyTasks(run, run.tasks[task].downstream));
  return MaybeFinishRun(run);
}

absl::Status Scheduler::MaybeFinishRun(ActiveRun& run) {
  if (run.unfinished > 0 || IsFinished(run.state)) return absl::OkStatus();
  bool any_failed = false, any_cancelled = false;
  for (const auto& t : run.tasks) {
    any_failed |= IsFailedLike(t.state);
    any_cancelled |= t.state == TiState::kCancelled;
  }
  DE_RETURN_IF_ERROR(TransitionRun(run, any_failed      ? RunState::kFailed
                                        : any_cancelled ? RunState::kCancelled
                                                        : RunState::kSuccess));
  const std::string dag_id = run.row.dag_id;
  const std::string backfill_id = run.row.backfill_id;
  DE_RETURN_IF_ERROR(PromoteQueuedRuns(dag_id));
  // A slot under max_active_runs may have opened: plan the next scheduled interval now.
  auto sit = schedules_.find(dag_id);
  if (sit != schedules_.end()) sit->second.next_due = std::min(sit->second.next_due, clock_->Now());
  if (!backfill_id.empty()) {
    auto bit = backfills_.find(backfill_id);
    if (bit != backfills_.end()) DE_RETURN_IF_ERROR(ProgressBackfill(bit->second));
  }
  // Waiters are re-checked by OnTaskSucceeded, in this same step.
  return absl::OkStatus();
}

absl::Status Scheduler::EndAttempt(int64_t attempt_id, const std::string& state,
                                   std::optional<int> exit_code, const std::string& error,
                                   const std::map<std::string, int64_t>& counters,
                                   bool retryable) {
  auto it = inflight_.find(attempt_id);
  if (it == inflight_.end()) return absl::OkStatus();
  InFlight fl = it->second;
  inflight_.erase(it);
  auto wit = workers_.find(fl.worker);
  if (wit != workers_.end()) wit->second.attempts.erase(attempt_id);
  {
    absl::MutexLock lock(&log_mu_);
    auto fit = log_fds_.find(attempt_id);
    if (fit != log_fds_.end()) {
      close(fit->second);
      log_fds_.erase(fit);
    }
    log_paths_.erase(attempt_id);
    log_capped_.erase(attempt_id);
  }
  const int64_t now = ToMillis(clock_->Now());
  store::AttemptRow a;
  a.attempt_id = attempt_id;
  a.state = state;
  a.ended_at = now;
  a.exit_code = exit_code;
  a.error = error;
  DE_RETURN_IF_ERROR(store_->UpdateAttempt(a));

  ActiveRun* run = FindRun(fl.run_id);
  if (run == nullptr) return absl::OkStatus();
  TaskState& ts = run->tasks[fl.task];
  if (ts.attempt_id != attempt_id) return absl::OkStatus();
  ts.attempt_id = 0;
  ts.row.error = error;
  ts.row.counters = counters;
  if (state == "success") {
    if (IsMapperStep(ts)) return EndMapperStep(*run, fl.task);
    DE_RETURN_IF_ERROR(TransitionTask(*run, fl.task, TiState::kSuccess));
    return OnTaskSucceeded(*run, fl.task);
  }
  if (state == "cancelled") {
    DE_RETURN_IF_ERROR(TransitionTask(*run, fl.task, TiState::kCancelled));
    return MaybeFinishRun(*run);
  }
  if (state == "lost") {
    ts.row.lost_count++;
    if (!listeners_.empty()) {
      Event e = TaskEvent(*run, fl.task, EventKind::kLeaseLost);
      e.from_state = e.to_state;
      DE_RETURN_IF_ERROR(Emit(std::move(e)));
    }
    if (ts.row.lost_count <= options_.max_lost) {
      // Retried at once (lost attempts do not use up retries): an event of kind kRetry.
      DE_RETURN_IF_ERROR(TransitionTask(*run, fl.task, TiState::kQueued, EventKind::kRetry));
      Enqueue(*run, fl.task);
      return absl::OkStatus();
    }
    ts.row.error = absl::StrCat(error, " (lost ", ts.row.lost_count, " times; giving up)");
    return OnTaskFailedFinal(*run, fl.task);
  }
  // failed or timed_out: a retry if the policy allows.
  const int failures = ts.row.try_number - ts.row.lost_count;
  if (retryable && failures < ts.row.max_tries) {
    ts.row.next_retry_at = ToMillis(clock_->Now() + RetryDelay(ts.spec->retry, failures));
    // Writes next_retry_at too.
    DE_RETURN_IF_ERROR(TransitionTask(*run, fl.task, TiState::kUpForRetry, EventKind::kRetry));
    retry_due_[{run->row.run_id, fl.task}] = ts.row.next_retry_at;
    wake_ = true;
    return absl::OkStatus();
  }
  return OnTaskFailedFinal(*run, fl.task);
}

}  // namespace de::sched
