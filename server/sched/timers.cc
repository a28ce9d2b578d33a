// Leases, retries, timeouts, wait timeouts, deadlines and cron wake-ups: the timer thread and
// the pass it makes whenever something is due. Under the scheduler's lock.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "server/sched/scheduler.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::FromMillis;
using common::ToMillis;

}  // namespace

void Scheduler::Start() {
  absl::MutexLock join(&timer_join_mu_);
  timer_thread_ = std::thread([this] { TimerLoop(); });
}

void Scheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  absl::MutexLock join(&timer_join_mu_);   // a second caller returns once the thread has ended
  if (timer_thread_.joinable()) timer_thread_.join();
}

void Scheduler::TimerLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      absl::Time next = clock_->Now() + absl::Seconds(1);
      for (const auto& [id, fl] : inflight_) next = std::min({next, fl.lease_expires, fl.deadline});
      for (const auto& [key, ms] : retry_due_) next = std::min(next, FromMillis(ms));
      for (const auto& [id, d] : schedules_) next = std::min(next, d.next_due);
      for (const auto& [id, r] : runs_) next = std::min({next, r->wait_deadline, r->next_deadline});
      next = std::min(next, file_waits_.NextDue());
      if (store_retry_at_ > clock_->Now()) next = std::min(next, store_retry_at_);
      auto cond = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || wake_; };
      absl::Duration wait = std::max(absl::ZeroDuration(), next - clock_->Now());
      mu_.AwaitWithTimeout(absl::Condition(&cond), wait);
      wake_ = false;
      if (stopping_) return;
    }
    ProcessTimers();
    absl::MutexLock lock(&mu_);
    if (observer_ == nullptr) continue;
    observer_->OnHeartbeat(ToMillis(clock_->Now()));
    const absl::Time real_now = absl::Now();
    if (real_now - last_sample_ >= absl::Seconds(1)) {
      last_sample_ = real_now;
      SampleStateLocked();
    }
  }
}

void Scheduler::ProcessTimers() {
  absl::MutexLock lock(&mu_);
  const absl::Time started = absl::Now();
  ProcessTimersLocked();
  if (observer_ != nullptr) observer_->OnLoop(absl::Now() - started);
}

void Scheduler::ProcessTimersLocked() {
  // The store failed a moment ago: no writes until the retry (probes write nothing).
  if (StoreBackingOff()) return SendDueProbes(clock_->Now());
  ApplyResults();
  if (StoreBackingOff()) return SendDueProbes(clock_->Now());
  const absl::Time now = clock_->Now();
  std::vector<int64_t> lost, timed_out;
  {
    absl::MutexLock results_lock(&results_mu_);
    for (const auto& [id, fl] : inflight_) {
      if (results_.count(id)) continue;   // reported; its result waits for the store, not lost
      if (fl.deadline <= now) {
        timed_out.push_back(id);
      } else if (fl.lease_expires <= now) {
        lost.push_back(id);
      }
    }
  }
  std::vector<std::pair<std::string, int>> retries;
  for (const auto& [key, ms] : retry_due_) {
    if (FromMillis(ms) <= now) retries.push_back(key);
  }
  std::vector<std::string> wait_timeouts;
  bool deadlines = false;
  for (const auto& [id, r] : runs_) {
    if (r->state == RunState::kWaiting && r->wait_deadline <= now) wait_timeouts.push_back(id);
    deadlines |= r->next_deadline <= now;
  }
  bool plan = false;
  for (const auto& [id, d] : schedules_) plan |= d.next_due <= now;
  const std::vector<std::string> data_moved = file_waits_.TakeMoved();
  if (lost.empty() && timed_out.empty() && retries.empty() && wait_timeouts.empty() && !plan &&
      !deadlines && data_moved.empty()) {
    Dispatch();
    SendDueProbes(now);
    return;
  }
  store::Transaction tx(store_->db());
  absl::Status st = tx.status();
  // Deadlines first: a run that also times out its wait in this pass was late either way.
  if (st.ok() && deadlines) st = FireDeadlines(now);
  if (st.ok()) st = TimeOutWaits(wait_timeouts);
  if (st.ok()) st = MoveFileWaiters(data_moved);
  if (st.ok() && !wait_timeouts.empty()) st = RecheckWaiters("");
  if (st.ok() && plan) st = CreateScheduledRuns();
  for (int64_t id : timed_out) {
    if (!st.ok()) break;
    const InFlight& fl = inflight_.at(id);
    QueueCancel(fl.worker, id, "timeout");
    spdlog::warn("attempt={} exceeded its timeout and was not reported by worker {}; fencing it",
                 id, fl.worker);
    st =
        EndAttempt(id, "timed_out", std::nullopt, "timed out (worker did not report the kill)", {});
  }
  for (int64_t id : lost) {
    if (!st.ok()) break;
    const InFlight& fl = inflight_.at(id);
    spdlog::warn("attempt={} lost: worker {} stopped heartbeating", id, fl.worker);
    auto sw = workers_.find(fl.worker);
    if (sw != workers_.end()) sw->second.suspect = true;
    st =
        EndAttempt(id, "lost", std::nullopt,
                   absl::StrCat("worker ", fl.worker, " stopped heartbeating (lease expired)"), {});
  }
  for (const auto& key : retries) {
    if (!st.ok()) break;
    retry_due_.erase(key);
    ActiveRun* run = FindRun(key.first);
    if (run == nullptr) continue;
    const int task = key.second;
    if (run->tasks[task].state != TiState::kUpForRetry) continue;
    st = TransitionTask(*run, task, TiState::kQueued);
    if (st.ok()) Enqueue(*run, task);
  }
  if (FinishStep(tx, st, "timers").ok()) {
    Dispatch();
  } else {
    file_waits_.MarkMoved(data_moved);
  }
  SendDueProbes(now);   // after this pass's timeouts: a run that gave up is not looked at
}

absl::Status Scheduler::TimeOutWaits(const std::vector<std::string>& run_ids) {
  for (const auto& run_id : run_ids) {
    ActiveRun* run = FindRun(run_id);
    std::vector<std::string> missing;
    DE_ASSIGN_OR_RETURN(bool ok, WaitsSatisfied(run->row, *run->dag, &missing));
    if (ok) continue;  // satisfied after all: the re-check after this starts it
    DE_RETURN_IF_ERROR(
        FailWaitingRun(*run, "wait_timeout: " + absl::StrJoin(missing, "; "), true));
  }
  return absl::OkStatus();
}

absl::Status Scheduler::FailWaitingRun(ActiveRun& run, const std::string& reason, bool timeout) {
  spdlog::warn("dag={} run={} {}", run.row.dag_id, run.row.run_id, reason);
  run.row.reason = reason;
  if (timeout && !listeners_.empty()) {
    Event e = RunEvent(run, EventKind::kWaitTimeout);
    e.from_state = e.to_state;
    DE_RETURN_IF_ERROR(Emit(std::move(e)));
  }
  const std::string error = reason.substr(0, reason.find(':'));   // wait_timeout, wait_failed
  for (size_t i = 0; i < run.tasks.size(); ++i) {
    run.tasks[i].row.error = error;
    DE_RETURN_IF_ERROR(TransitionTask(run, static_cast<int>(i), TiState::kUpstreamFailed));
  }
  return MaybeFinishRun(run);
}

}  // namespace de::sched
