#include "server/sched/scheduler.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dag/loader.h"
#include "common/dag/schedule.h"
#include "common/dag/template.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::FromMillis;
using common::ToMillis;

bool IsTerminal(const std::string& s) {
  return s == "success" || s == "failed" || s == "upstream_failed" || s == "skipped" ||
         s == "cancelled";
}

absl::Duration RetryDelay(const dag::RetryPolicy& p, int failures) {
  if (p.backoff == dag::Backoff::kFixed) return p.retry_delay;
  double factor = std::pow(2.0, std::max(0, failures - 1));
  absl::Duration d = p.retry_delay * factor;
  return std::min(d, p.max_retry_delay);
}

}  // namespace

Scheduler::Scheduler(std::unique_ptr<store::Store> store, const common::Clock* clock,
                     SchedulerOptions options)
    : db_path_(store->db()->path()),
      store_(std::move(store)),
      clock_(clock),
      options_(std::move(options)) {}

Scheduler::~Scheduler() {
  Stop();
  absl::MutexLock lock(&log_mu_);
  for (auto& [id, fd] : log_fds_) close(fd);
}

// ---------------------------------------------------------------------------------------------
// Loading state.

absl::StatusOr<std::shared_ptr<const dag::DagSpec>> Scheduler::LoadDagVersion(
    const std::string& dag_id, int version) {
  auto key = std::make_pair(dag_id, version);
  auto it = dag_cache_.find(key);
  if (it != dag_cache_.end()) return it->second;
  DE_ASSIGN_OR_RETURN(auto row, store_->GetDagVersion(dag_id, version));
  if (!row) {
    return absl::NotFoundError(absl::StrCat("DAG ", dag_id, " version ", version, " not found"));
  }
  dag::LoadResult loaded = dag::LoadDag(row->yaml, row->source);
  if (!loaded.ok()) {
    return absl::DataLossError(absl::StrCat("stored DAG ", dag_id, " version ", version,
                                            " no longer validates: ",
                                            loaded.errors.front().ToString()));
  }
  auto spec = std::make_shared<const dag::DagSpec>(std::move(*loaded.dag));
  dag_cache_[key] = spec;
  return spec;
}

absl::Status Scheduler::LoadRun(const store::RunRow& row) {
  DE_ASSIGN_OR_RETURN(auto spec, LoadDagVersion(row.dag_id, row.dag_version));
  auto run = std::make_unique<ActiveRun>();
  run->row = row;
  run->dag = spec;
  run->tasks.resize(spec->tasks.size());
  for (size_t i = 0; i < spec->tasks.size(); ++i) {
    run->index[spec->tasks[i].id] = static_cast<int>(i);
    run->tasks[i].spec = &spec->tasks[i];
  }
  for (size_t i = 0; i < spec->tasks.size(); ++i) {
    for (const auto& need : spec->tasks[i].needs) {
      int u = run->index.at(need);
      run->tasks[i].upstream.push_back(u);
      run->tasks[u].downstream.push_back(static_cast<int>(i));
    }
  }
  DE_ASSIGN_OR_RETURN(auto tis, store_->ListTaskInstances(row.run_id));
  for (auto& ti : tis) {
    auto it = run->index.find(ti.task_id);
    if (it == run->index.end()) continue;
    run->tasks[it->second].row = std::move(ti);
  }
  for (const auto& t : run->tasks) run->unfinished += !IsTerminal(t.row.state);
  DE_ASSIGN_OR_RETURN(auto attempts, store_->ListAttempts(row.run_id));
  const absl::Time now = clock_->Now();
  ActiveRun* r = run.get();
  runs_[row.run_id] = std::move(run);
  for (const auto& a : attempts) {
    if (a.state != "running") continue;
    auto it = r->index.find(a.task_id);
    if (it == r->index.end()) continue;
    TaskState& ts = r->tasks[it->second];
    ts.attempt_id = a.attempt_id;
    InFlight fl;
    fl.run_id = row.run_id;
    fl.task = it->second;
    fl.worker = a.worker;
    fl.try_number = a.try_number;
    fl.lease_expires = now + options_.lease;   // the worker gets one lease to come back
    if (ts.spec->timeout) {
      fl.deadline = FromMillis(a.started_at) + *ts.spec->timeout + options_.timeout_grace;
    }
    inflight_[a.attempt_id] = fl;
    auto wit = workers_.find(a.worker);
    if (wit != workers_.end()) wit->second.attempts.insert(a.attempt_id);
    absl::MutexLock lock(&log_mu_);
    log_paths_[a.attempt_id] = LogPath(row.run_id, a.task_id, a.try_number);
  }
  if (row.state == "waiting") {
    for (const auto& w : spec->wait_for) {
      if (w.timeout) {
        r->wait_deadline = std::min(r->wait_deadline, FromMillis(row.created_at) + *w.timeout);
      }
    }
  }
  for (size_t i = 0; i < r->tasks.size(); ++i) {
    const auto& ti = r->tasks[i].row;
    if (ti.state == "queued") Enqueue(*r, static_cast<int>(i));
    if (ti.state == "up_for_retry") retry_due_[{row.run_id, static_cast<int>(i)}] = ti.next_retry_at;
  }
  return absl::OkStatus();
}

absl::Status Scheduler::Recover() {
  absl::MutexLock lock(&mu_);
  runs_.clear();
  inflight_.clear();
  ready_.clear();
  retry_due_.clear();
  for (auto& [name, w] : workers_) w.attempts.clear();
  DE_ASSIGN_OR_RETURN(auto rows, store_->ListUnfinishedRuns());
  for (const auto& row : rows) {
    absl::Status st = LoadRun(row);
    if (!st.ok()) {
      spdlog::error("run={} cannot be resumed: {}", row.run_id, st.ToString());
      runs_.erase(row.run_id);
    }
  }
  DE_RETURN_IF_ERROR(LoadSchedulesAndBackfills());
  std::set<std::string> dags;
  for (const auto& [id, run] : runs_) dags.insert(run->row.dag_id);
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  for (const auto& d : dags) DE_RETURN_IF_ERROR(PromoteQueuedRuns(d));
  DE_RETURN_IF_ERROR(RecheckWaiters(""));
  DE_RETURN_IF_ERROR(ProgressBackfills());
  DE_RETURN_IF_ERROR(tx.Commit());
  spdlog::info("recovered {} unfinished runs, {} running attempts", runs_.size(),
               inflight_.size());
  return absl::OkStatus();
}

void Scheduler::ReloadAfterStoreFailure() {
  spdlog::error("store write failed; reloading scheduler state from the database");
  outbox_.clear();
  runs_.clear();
  inflight_.clear();
  ready_.clear();
  retry_due_.clear();
  for (auto& [name, w] : workers_) w.attempts.clear();
  auto rows = store_->ListUnfinishedRuns();
  if (!rows.ok()) {
    spdlog::critical("cannot read the database: {}", rows.status().ToString());
    return;
  }
  for (const auto& row : *rows) {
    absl::Status st = LoadRun(row);
    if (!st.ok()) runs_.erase(row.run_id);
  }
  absl::Status st = LoadSchedulesAndBackfills();
  if (!st.ok()) spdlog::critical("cannot reload schedules: {}", st.ToString());
}

Scheduler::ActiveRun* Scheduler::FindRun(const std::string& run_id) {
  auto it = runs_.find(run_id);
  return it == runs_.end() ? nullptr : it->second.get();
}

// ---------------------------------------------------------------------------------------------
// Timers.

void Scheduler::Start() {
  timer_thread_ = std::thread([this] { TimerLoop(); });
}

void Scheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
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
      for (const auto& [id, r] : runs_) next = std::min(next, r->wait_deadline);
      auto cond = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || wake_; };
      absl::Duration wait = std::max(absl::ZeroDuration(), next - clock_->Now());
      mu_.AwaitWithTimeout(absl::Condition(&cond), wait);
      wake_ = false;
      if (stopping_) return;
    }
    ProcessTimers();
  }
}

void Scheduler::ProcessTimers() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  std::vector<int64_t> lost, timed_out;
  for (const auto& [id, fl] : inflight_) {
    if (fl.deadline <= now) {
      timed_out.push_back(id);
    } else if (fl.lease_expires <= now) {
      lost.push_back(id);
    }
  }
  std::vector<std::pair<std::string, int>> retries;
  for (const auto& [key, ms] : retry_due_) {
    if (FromMillis(ms) <= now) retries.push_back(key);
  }
  std::vector<std::string> wait_timeouts;
  for (const auto& [id, r] : runs_) {
    if (r->row.state == "waiting" && r->wait_deadline <= now) wait_timeouts.push_back(id);
  }
  bool plan = false;
  for (const auto& [id, d] : schedules_) plan |= d.next_due <= now;
  if (lost.empty() && timed_out.empty() && retries.empty() && wait_timeouts.empty() && !plan) {
    Dispatch();
    return;
  }
  store::Transaction tx(store_->db());
  absl::Status st = tx.status();
  for (const auto& run_id : wait_timeouts) {
    if (!st.ok()) break;
    ActiveRun* run = FindRun(run_id);
    std::vector<std::string> missing;
    auto ok = WaitsSatisfied(run->row, *run->dag, &missing);
    if (!ok.ok()) {
      st = ok.status();
      break;
    }
    if (*ok) continue;   // satisfied after all: the re-check below starts it
    std::string reason = "wait_timeout: " + absl::StrJoin(missing, "; ");
    spdlog::warn("dag={} run={} {}", run->row.dag_id, run_id, reason);
    for (size_t i = 0; st.ok() && i < run->tasks.size(); ++i) {
      run->tasks[i].row.error = "wait_timeout";
      st = SetTaskState(*run, static_cast<int>(i), "upstream_failed");
    }
    run->row.reason = reason;
    if (st.ok()) st = MaybeFinishRun(*run);
  }
  if (st.ok() && !wait_timeouts.empty()) st = RecheckWaiters("");
  if (st.ok() && plan) st = CreateScheduledRuns();
  for (int64_t id : timed_out) {
    if (!st.ok()) break;
    const InFlight& fl = inflight_.at(id);
    QueueCancel(fl.worker, id, "timeout");
    spdlog::warn("attempt={} exceeded its timeout and was not reported by worker {}; fencing it",
                 id, fl.worker);
    st = EndAttempt(id, "timed_out", std::nullopt, "timed out (worker did not report the kill)", {});
  }
  for (int64_t id : lost) {
    if (!st.ok()) break;
    const InFlight& fl = inflight_.at(id);
    spdlog::warn("attempt={} lost: worker {} stopped heartbeating", id, fl.worker);
    auto sw = workers_.find(fl.worker);
    if (sw != workers_.end()) sw->second.suspect = true;
    st = EndAttempt(id, "lost", std::nullopt,
                    absl::StrCat("worker ", fl.worker, " stopped heartbeating (lease expired)"), {});
  }
  for (const auto& key : retries) {
    if (!st.ok()) break;
    retry_due_.erase(key);
    ActiveRun* run = FindRun(key.first);
    if (run == nullptr) continue;
    const int task = key.second;
    if (run->tasks[task].row.state != "up_for_retry") continue;
    st = SetTaskState(*run, task, "queued");
    if (st.ok()) Enqueue(*run, task);
  }
  if (!st.ok()) {
    spdlog::error("timer step failed: {}", st.ToString());
    ReloadAfterStoreFailure();
    return;
  }
  CommitAndFlush(tx, "timers");
  Dispatch();
}

// ---------------------------------------------------------------------------------------------
// Transitions.

absl::Status Scheduler::SetTaskState(ActiveRun& run, int task, const std::string& state) {
  store::TaskInstanceRow& row = run.tasks[task].row;
  const int64_t now = ToMillis(clock_->Now());
  run.unfinished += static_cast<int>(IsTerminal(row.state)) - static_cast<int>(IsTerminal(state));
  row.state = state;
  if (state == "queued") {
    row.queued_at = now;
    row.next_retry_at = 0;
  }
  if (IsTerminal(state)) row.ended_at = now;
  return store_->UpdateTaskInstance(row);
}

void Scheduler::Enqueue(ActiveRun& run, int task) {
  const auto& row = run.tasks[task].row;
  ready_.insert(ReadyKey{run.row.run_type == "backfill" ? 1 : 0, -run.tasks[task].spec->priority,
                         row.queued_at, seq_++, run.row.run_id, task});
}

absl::Status Scheduler::StartRunIfAllowed(ActiveRun& run) {
  if (run.row.state != "queued") return absl::OkStatus();
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
    if (r->row.dag_id != run.row.dag_id || r->row.state != "running") continue;
    if ((r->row.run_type == "backfill") != backfill) continue;
    if (backfill && r->row.backfill_id != run.row.backfill_id) continue;
    ++active;
  }
  if (active >= limit) return absl::OkStatus();
  run.row.state = "running";
  if (run.row.started_at == 0) run.row.started_at = ToMillis(clock_->Now());
  DE_RETURN_IF_ERROR(store_->UpdateRun(run.row));
  return QueueReadyTasks(run);
}

absl::Status Scheduler::PromoteQueuedRuns(const std::string& dag_id) {
  std::vector<ActiveRun*> queued;
  for (auto& [id, r] : runs_) {
    if (r->row.dag_id == dag_id && r->row.state == "queued") queued.push_back(r.get());
  }
  std::sort(queued.begin(), queued.end(), [](const ActiveRun* a, const ActiveRun* b) {
    return std::tie(a->row.logical_date, a->row.created_at, a->row.run_id) <
           std::tie(b->row.logical_date, b->row.created_at, b->row.run_id);
  });
  for (ActiveRun* r : queued) {
    DE_RETURN_IF_ERROR(StartRunIfAllowed(*r));
    if (r->row.state == "queued") break;   // at the limit
  }
  return absl::OkStatus();
}

absl::Status Scheduler::OnTaskSucceeded(ActiveRun& run, int task) {
  DE_RETURN_IF_ERROR(QueueReadyTasks(run, run.tasks[task].downstream));
  const std::string dag_id = run.row.dag_id;
  if (run.tasks[task].spec->depends_on_past) {
    // A later run's same task may have been held for this one.
    for (auto& [id, other] : runs_) {
      if (other.get() != &run && other->row.dag_id == dag_id && other->row.state == "running") {
        DE_RETURN_IF_ERROR(QueueReadyTasks(*other));
      }
    }
  }
  DE_RETURN_IF_ERROR(MaybeFinishRun(run));
  return RecheckWaiters(dag_id);   // waits on this task
}

absl::Status Scheduler::QueueReadyTasks(ActiveRun& run) {
  std::vector<int> all(run.tasks.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return QueueReadyTasks(run, all);
}

absl::Status Scheduler::QueueReadyTasks(ActiveRun& run, const std::vector<int>& candidates) {
  if (run.row.state != "running") return absl::OkStatus();
  for (int i : candidates) {
    TaskState& ts = run.tasks[i];
    if (ts.row.state != "scheduled") continue;
    bool ready = std::all_of(ts.upstream.begin(), ts.upstream.end(), [&](int u) {
      const std::string& st = run.tasks[u].row.state;
      return st == "success" || st == "skipped";
    });
    if (!ready) continue;
    if (ts.spec->depends_on_past) {
      DE_ASSIGN_OR_RETURN(bool past_ok, PastAllows(run, static_cast<int>(i)));
      if (!past_ok) continue;
    }
    DE_RETURN_IF_ERROR(SetTaskState(run, static_cast<int>(i), "queued"));
    Enqueue(run, static_cast<int>(i));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Scheduler::PastAllows(const ActiveRun& run, int task) {
  DE_ASSIGN_OR_RETURN(auto prev, store_->PreviousRun(run.row.dag_id, run.row.logical_date));
  if (!prev) return true;
  const std::string& task_id = run.tasks[task].spec->id;
  // The previous run may be in memory with newer state than a read would show mid-transaction;
  // reads see this connection's writes, so the store is authoritative.
  DE_ASSIGN_OR_RETURN(auto ti, store_->GetTaskInstance(prev->run_id, task_id));
  if (!ti) return true;   // the task did not exist in that run's DAG version
  return ti->state == "success" || ti->state == "skipped";
}

absl::Status Scheduler::OnTaskFailedFinal(ActiveRun& run, int task) {
  DE_RETURN_IF_ERROR(SetTaskState(run, task, "failed"));
  std::vector<int> stack(run.tasks[task].downstream);
  while (!stack.empty()) {
    int d = stack.back();
    stack.pop_back();
    if (run.tasks[d].row.state != "scheduled") continue;
    DE_RETURN_IF_ERROR(SetTaskState(run, d, "upstream_failed"));
    for (int dd : run.tasks[d].downstream) stack.push_back(dd);
  }
  return MaybeFinishRun(run);
}

absl::Status Scheduler::MaybeFinishRun(ActiveRun& run) {
  if (run.unfinished > 0 || IsTerminal(run.row.state)) return absl::OkStatus();
  bool any_failed = false, any_cancelled = false;
  for (const auto& t : run.tasks) {
    if (t.row.state == "failed" || t.row.state == "upstream_failed") any_failed = true;
    if (t.row.state == "cancelled") any_cancelled = true;
  }
  run.row.state = any_failed ? "failed" : any_cancelled ? "cancelled" : "success";
  run.row.ended_at = ToMillis(clock_->Now());
  if (run.row.started_at == 0) run.row.started_at = run.row.ended_at;
  DE_RETURN_IF_ERROR(store_->UpdateRun(run.row));
  spdlog::info("dag={} run={} finished: {}", run.row.dag_id, run.row.run_id, run.row.state);
  const std::string dag_id = run.row.dag_id;
  const std::string backfill_id = run.row.backfill_id;
  const bool succeeded = run.row.state == "success";
  DE_RETURN_IF_ERROR(PromoteQueuedRuns(dag_id));
  // A slot under max_active_runs may have opened: plan the next scheduled interval now.
  auto sit = schedules_.find(dag_id);
  if (sit != schedules_.end()) sit->second.next_due = std::min(sit->second.next_due, clock_->Now());
  if (!backfill_id.empty()) {
    auto bit = backfills_.find(backfill_id);
    if (bit != backfills_.end()) DE_RETURN_IF_ERROR(ProgressBackfill(bit->second));
  }
  (void)succeeded;   // waiters are re-checked by OnTaskSucceeded, in this same step
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
  spdlog::info("dag={} run={} task={} attempt={} try={} {}", run->row.dag_id, run->row.run_id,
               ts.row.task_id, attempt_id, fl.try_number, state);
  if (state == "success") {
    DE_RETURN_IF_ERROR(SetTaskState(*run, fl.task, "success"));
    return OnTaskSucceeded(*run, fl.task);
  }
  if (state == "cancelled") {
    DE_RETURN_IF_ERROR(SetTaskState(*run, fl.task, "cancelled"));
    return MaybeFinishRun(*run);
  }
  if (state == "lost") {
    ts.row.lost_count++;
    if (ts.row.lost_count <= options_.max_lost) {
      DE_RETURN_IF_ERROR(SetTaskState(*run, fl.task, "queued"));
      Enqueue(*run, fl.task);
      return absl::OkStatus();
    }
    ts.row.error = absl::StrCat(error, " (lost ", ts.row.lost_count, " times; giving up)");
    return OnTaskFailedFinal(*run, fl.task);
  }
  // failed or timed_out: a retry if the policy allows and retrying can help.
  const int failures = ts.row.try_number - ts.row.lost_count;
  if (retryable && failures < ts.row.max_tries) {
    ts.row.next_retry_at = ToMillis(clock_->Now() + RetryDelay(ts.spec->retry, failures));
    DE_RETURN_IF_ERROR(SetTaskState(*run, fl.task, "up_for_retry"));   // writes next_retry_at too
    retry_due_[{run->row.run_id, fl.task}] = ts.row.next_retry_at;
    wake_ = true;
    return absl::OkStatus();
  }
  return OnTaskFailedFinal(*run, fl.task);
}

void Scheduler::QueueCancel(const std::string& worker, int64_t attempt_id,
                            const std::string& reason) {
  auto it = workers_.find(worker);
  if (it == workers_.end() || !it->second.channel) return;
  v1::SchedulerMessage m;
  m.mutable_cancel()->set_attempt_id(attempt_id);
  m.mutable_cancel()->set_reason(reason);
  outbox_.push_back({it->second.channel, std::move(m)});
}

void Scheduler::CommitAndFlush(store::Transaction& tx, const char* what) {
  absl::Status st = tx.Commit();
  if (!st.ok()) {
    spdlog::error("commit failed ({}): {}", what, st.ToString());
    ReloadAfterStoreFailure();
    return;
  }
  for (auto& o : outbox_) o.channel->Send(o.msg);
  outbox_.clear();
  for (auto it = backfills_.begin(); it != backfills_.end();) {
    it = it->second.row.state != "running" ? backfills_.erase(it) : std::next(it);
  }
  for (auto it = runs_.begin(); it != runs_.end();) {
    if (IsTerminal(it->second->row.state)) {
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
  wake_ = true;
}

// ---------------------------------------------------------------------------------------------
// Dispatch.

absl::StatusOr<v1::Assignment> Scheduler::MakeAssignment(ActiveRun& run, int task,
                                                         int64_t attempt_id) {
  const TaskState& ts = run.tasks[task];
  const dag::DagSpec& spec = *run.dag;
  std::map<std::string, std::string> params = spec.params;
  for (const auto& [k, v] : run.row.conf) params[k] = v;
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(spec.timezone, &tz)) tz = absl::UTCTimeZone();
  const int attempt = ts.row.try_number;
  dag::TemplateContext ctx = dag::MakeTemplateContext(
      spec.id, run.row.run_id, ts.spec->id, attempt, FromMillis(run.row.logical_date),
      FromMillis(run.row.interval_start), FromMillis(run.row.interval_end), tz, params);
  v1::Assignment a;
  a.set_attempt_id(attempt_id);
  a.set_run_id(run.row.run_id);
  a.set_dag_id(spec.id);
  a.set_task_id(ts.spec->id);
  a.set_try_number(attempt);
  a.set_type(ts.spec->type);
  if (ts.spec->with && !ts.spec->with.IsNull()) {
    DE_ASSIGN_OR_RETURN(std::string rendered, dag::RenderYaml(ts.spec->with, ctx));
    a.set_params_yaml(rendered);
  }
  if (ts.spec->timeout) a.set_timeout_ms(absl::ToInt64Milliseconds(*ts.spec->timeout));
  auto& env = *a.mutable_env();
  env["DE_DAG"] = spec.id;
  env["DE_RUN_ID"] = run.row.run_id;
  env["DE_TASK"] = ts.spec->id;
  env["DE_TRY_NUMBER"] = std::to_string(attempt);
  env["DE_DS"] = ctx.vars["ds"];
  env["DE_LOGICAL_DATE"] = ctx.vars["logical_date"];
  return a;
}

void Scheduler::Dispatch() {
  if (ready_.empty() || stopping_) return;
  struct Free {
    WorkerState* w;
    int free;
  };
  std::vector<Free> free;
  for (auto& [name, w] : workers_) {
    int f = w.slots - static_cast<int>(w.attempts.size());
    // A worker that let a lease lapse gets no new work until it is heard from again, even if its
    // stream is still open (a hung process, a half-open connection).
    if (w.channel && f > 0 && !w.suspect) free.push_back({&w, f});
  }
  if (free.empty()) return;
  int total_free = 0;
  for (const auto& f : free) total_free += f.free;
  // Running tasks per DAG (max_active_tasks) and per pool (pool slots).
  std::map<std::string, int> active_tasks;
  std::map<std::string, int> pool_used;
  for (const auto& [id, fl] : inflight_) {
    const ActiveRun* r = FindRun(fl.run_id);
    if (r) {
      active_tasks[r->row.dag_id]++;
      pool_used[r->tasks[fl.task].spec->pool]++;
    }
  }

  store::Transaction tx(store_->db());
  absl::Status st = tx.status();
  int dispatched = 0;
  bool wrote = false;   // rows changed (also when an attempt failed before reaching a worker)
  const int64_t now = ToMillis(clock_->Now());
  for (auto it = ready_.begin(); st.ok() && total_free > 0 && it != ready_.end();) {
    ActiveRun* run = FindRun(it->run_id);
    if (run == nullptr || run->tasks[it->task].row.state != "queued") {
      it = ready_.erase(it);
      continue;
    }
    TaskState& ts = run->tasks[it->task];
    if (active_tasks[run->row.dag_id] >= run->dag->max_active_tasks) {
      ++it;
      continue;
    }
    auto pool_it = options_.pool_slots.find(ts.spec->pool);
    if (pool_it != options_.pool_slots.end() && pool_used[ts.spec->pool] >= pool_it->second) {
      ++it;
      continue;
    }
    Free* best = nullptr;
    for (auto& f : free) {
      if (f.free <= 0) continue;
      const auto& pools = f.w->pools;
      if (pools.front() != "*" &&
          std::find(pools.begin(), pools.end(), ts.spec->pool) == pools.end()) {
        continue;
      }
      if (best == nullptr || f.free > best->free) best = &f;
    }
    if (best == nullptr) {
      ++it;
      continue;
    }
    const int task = it->task;
    it = ready_.erase(it);

    ts.row.try_number++;
    store::AttemptRow a;
    a.run_id = run->row.run_id;
    a.task_id = ts.spec->id;
    a.try_number = ts.row.try_number;
    a.worker = best->w->name;
    a.state = "running";
    a.started_at = now;
    auto attempt_id = store_->InsertAttempt(a);
    if (!attempt_id.ok()) {
      st = attempt_id.status();
      break;
    }
    auto assignment = MakeAssignment(*run, task, *attempt_id);
    if (!assignment.ok()) {
      // Cannot even render the task's parameters: the attempt fails without a worker.
      a.attempt_id = *attempt_id;
      a.state = "failed";
      a.ended_at = now;
      a.error = std::string(assignment.status().message());
      wrote = true;
      st = store_->UpdateAttempt(a);
      ts.row.error = a.error;
      if (st.ok()) st = OnTaskFailedFinal(*run, task);
      continue;
    }
    ts.attempt_id = *attempt_id;
    ts.row.started_at = now;
    ts.row.ended_at = 0;
    ts.row.worker = best->w->name;
    ts.row.error.clear();
    st = SetTaskState(*run, task, "running");
    if (!st.ok()) break;
    InFlight fl;
    fl.run_id = run->row.run_id;
    fl.task = task;
    fl.worker = best->w->name;
    fl.try_number = ts.row.try_number;
    fl.lease_expires = clock_->Now() + options_.lease;
    if (ts.spec->timeout) fl.deadline = clock_->Now() + *ts.spec->timeout + options_.timeout_grace;
    inflight_[*attempt_id] = fl;
    best->w->attempts.insert(*attempt_id);
    best->free--;
    total_free--;
    active_tasks[run->row.dag_id]++;
    pool_used[ts.spec->pool]++;
    {
      absl::MutexLock lock(&log_mu_);
      log_paths_[*attempt_id] = LogPath(run->row.run_id, ts.spec->id, ts.row.try_number);
    }
    v1::SchedulerMessage m;
    *m.mutable_assign() = std::move(*assignment);
    outbox_.push_back({best->w->channel, std::move(m)});
    ++dispatched;
  }
  if (!st.ok()) {
    spdlog::error("dispatch failed: {}", st.ToString());
    ReloadAfterStoreFailure();
    return;
  }
  if (dispatched > 0 || wrote || !outbox_.empty()) CommitAndFlush(tx, "dispatch");
}

// ---------------------------------------------------------------------------------------------
// Workers.

absl::StatusOr<v1::RegisterAck> Scheduler::RegisterWorker(const v1::Register& reg,
                                                          std::shared_ptr<WorkerChannel> channel,
                                                          uint64_t session_id) {
  if (reg.name().empty()) return absl::InvalidArgumentError("worker name is empty");
  if (reg.slots() <= 0) return absl::InvalidArgumentError("worker slots must be positive");
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  WorkerState& w = workers_[reg.name()];
  if (w.channel && w.session_id != session_id) {
    spdlog::warn("worker {} reconnected; closing its previous session", reg.name());
    w.channel->Close();
  }
  if (w.first_seen_ms == 0) w.first_seen_ms = ToMillis(now);
  w.name = reg.name();
  w.slots = reg.slots();
  w.pools.assign(reg.pools().begin(), reg.pools().end());
  if (w.pools.empty()) w.pools.push_back("*");   // no --pools: serves every pool
  w.version = reg.version();
  w.channel = channel;
  w.session_id = session_id;
  w.connected_at = now;
  w.last_seen = now;
  w.suspect = false;

  v1::RegisterAck ack;
  ack.set_heartbeat_interval_ms(absl::ToInt64Milliseconds(options_.heartbeat));
  ack.set_lease_ms(absl::ToInt64Milliseconds(options_.lease));
  std::set<int64_t> held(reg.running_attempt_ids().begin(), reg.running_attempt_ids().end());
  w.attempts.clear();
  for (int64_t id : held) {
    auto it = inflight_.find(id);
    if (it == inflight_.end() || it->second.worker != reg.name()) {
      ack.add_fenced_attempt_ids(id);
      spdlog::warn("worker {} still runs attempt={} which was fenced; telling it to stop",
                   reg.name(), id);
      continue;
    }
    it->second.lease_expires = now + options_.lease;
    w.attempts.insert(id);
  }
  std::vector<int64_t> missing;
  for (const auto& [id, fl] : inflight_) {
    if (fl.worker == reg.name() && !held.count(id)) missing.push_back(id);
  }
  store::Transaction tx(store_->db());
  absl::Status st = tx.status();
  for (int64_t id : missing) {
    if (!st.ok()) break;
    st = EndAttempt(id, "lost", std::nullopt,
                    absl::StrCat("worker ", reg.name(), " restarted without it"), {});
  }
  if (st.ok()) {
    store::WorkerRow row;
    row.name = w.name;
    row.slots = w.slots;
    row.pools = w.pools;
    row.version = w.version;
    row.first_seen = w.first_seen_ms;
    row.last_seen = ToMillis(now);
    row.state = "connected";
    st = store_->UpsertWorker(row);
  }
  if (!st.ok()) {
    ReloadAfterStoreFailure();
    return st;
  }
  // The ack goes first on the stream, before any assignment, and only once the lost attempts it
  // implies are committed.
  v1::SchedulerMessage m;
  *m.mutable_ack() = ack;
  outbox_.insert(outbox_.begin(), Outgoing{channel, std::move(m)});
  CommitAndFlush(tx, "register");
  spdlog::info("worker {} connected: {} slots, pools [{}], {} attempts kept", w.name, w.slots,
               absl::StrJoin(w.pools, ","), w.attempts.size());
  Dispatch();
  return ack;
}

void Scheduler::OnWorkerMessage(const std::string& worker, uint64_t session_id,
                                const v1::WorkerMessage& msg) {
  if (msg.has_log()) {
    WriteLog(msg.log().attempt_id(), msg.log().offset(), msg.log().data());
    return;
  }
  absl::MutexLock lock(&mu_);
  auto wit = workers_.find(worker);
  if (wit == workers_.end() || wit->second.session_id != session_id) return;
  WorkerState& w = wit->second;
  const absl::Time now = clock_->Now();
  w.last_seen = now;
  const bool was_suspect = std::exchange(w.suspect, false);
  if (msg.has_heartbeat()) {
    for (int64_t id : msg.heartbeat().running_attempt_ids()) {
      auto it = inflight_.find(id);
      if (it != inflight_.end() && it->second.worker == worker) {
        it->second.lease_expires = now + options_.lease;
      } else if (w.channel) {
        v1::SchedulerMessage m;
        m.mutable_cancel()->set_attempt_id(id);
        m.mutable_cancel()->set_reason("fenced");
        w.channel->Send(m);
      }
    }
    if (was_suspect) Dispatch();   // back from silence: it may take work again
    return;
  }
  if (msg.has_started()) return;
  if (msg.has_result()) {
    const v1::TaskResult& r = msg.result();
    auto it = inflight_.find(r.attempt_id());
    if (it == inflight_.end() || it->second.worker != worker) {
      spdlog::warn("ignoring late report from worker {} for fenced attempt={} ({})", worker,
                   r.attempt_id(), r.success() ? "success" : "failure");
      return;
    }
    it->second.lease_expires = now + options_.lease;
    std::string state = r.success()     ? "success"
                        : r.timed_out() ? "timed_out"
                        : r.cancelled() ? "cancelled"
                                        : "failed";
    std::map<std::string, int64_t> counters(r.counters().begin(), r.counters().end());
    store::Transaction tx(store_->db());
    absl::Status st = tx.status();
    if (st.ok()) {
      st = EndAttempt(r.attempt_id(), state, r.exit_code(), r.error(), counters, !r.non_retryable());
    }
    if (!st.ok()) {
      spdlog::error("cannot record result of attempt={}: {}", r.attempt_id(), st.ToString());
      ReloadAfterStoreFailure();
      return;
    }
    CommitAndFlush(tx, "result");
    Dispatch();
  }
}

void Scheduler::CloseWorkerSessions() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, w] : workers_) {
    if (w.channel) w.channel->Close();
  }
}

void Scheduler::OnWorkerDisconnected(const std::string& worker, uint64_t session_id) {
  absl::MutexLock lock(&mu_);
  auto wit = workers_.find(worker);
  if (wit == workers_.end() || wit->second.session_id != session_id) return;
  WorkerState& w = wit->second;
  w.channel.reset();
  w.last_seen = clock_->Now();
  store::WorkerRow row;
  row.name = w.name;
  row.slots = w.slots;
  row.pools = w.pools;
  row.version = w.version;
  row.first_seen = w.first_seen_ms;
  row.last_seen = ToMillis(w.last_seen);
  row.state = "disconnected";
  absl::Status st = store_->UpsertWorker(row);
  if (!st.ok()) spdlog::error("recording worker {} disconnect: {}", worker, st.ToString());
  spdlog::warn("worker {} disconnected with {} attempts in flight (lease {}s)", worker,
               w.attempts.size(), absl::ToInt64Seconds(options_.lease));
}

// ---------------------------------------------------------------------------------------------
// Logs.

std::string Scheduler::LogPath(const std::string& run_id, const std::string& task_id,
                               int try_number) const {
  return absl::StrCat(options_.de_home, "/logs/", run_id, "/", task_id, "/", try_number, ".log");
}

void Scheduler::WriteLog(int64_t attempt_id, int64_t offset, const std::string& data) {
  // A worker's offsets are trusted only within reason: no sparse multi-terabyte log files.
  constexpr int64_t kMaxLogBytes = int64_t{64} << 30;
  if (offset < 0 || offset > kMaxLogBytes) {
    spdlog::warn("attempt={} sent a log chunk at offset {}; ignored", attempt_id, offset);
    return;
  }
  absl::MutexLock lock(&log_mu_);
  auto pit = log_paths_.find(attempt_id);
  if (pit == log_paths_.end()) return;   // unknown or fenced attempt
  auto fit = log_fds_.find(attempt_id);
  if (fit == log_fds_.end()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(pit->second).parent_path(), ec);
    int fd = open(pit->second.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      spdlog::error("cannot open log {}: {}", pit->second, strerror(errno));
      return;
    }
    fit = log_fds_.emplace(attempt_id, fd).first;
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = pwrite(fit->second, data.data() + done, data.size() - done, offset + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("writing log {}: {}", pit->second, strerror(errno));
      return;
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace de::sched
