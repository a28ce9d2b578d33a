// Dispatch: hands ready task instances to workers with free slots, under DAG, pool and worker
// limits, one transaction per batch; and the cancels that follow commits.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/dag/template.h"
#include "common/status.h"
#include "server/sched/assignment.h"
#include "server/sched/scheduler.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::FromMillis;
using common::ToMillis;

}  // namespace

void Scheduler::QueueCancel(const std::string& worker, int64_t attempt_id,
                            const std::string& reason) {
  auto it = workers_.find(worker);
  if (it == workers_.end() || !it->second.channel) return;
  v1::SchedulerMessage m;
  m.mutable_cancel()->set_attempt_id(attempt_id);
  m.mutable_cancel()->set_reason(reason);
  outbox_.push_back({it->second.channel, std::move(m)});
}

absl::Status Scheduler::ResolveExternalRefs(const std::vector<std::string>& refs,
                                            dag::TemplateContext* ctx) {
  if (refs.empty()) return absl::OkStatus();
  std::vector<std::string> vars, secrets;
  for (const std::string& r : refs) {
    if (r.starts_with(dag::kVarPrefix)) vars.push_back(r.substr(dag::kVarPrefix.size()));
    if (r.starts_with(dag::kSecretPrefix)) {
      secrets.push_back(r.substr(dag::kSecretPrefix.size()));
    }
  }
  if (vault_ == nullptr) {
    return absl::FailedPreconditionError("this scheduler has no variables or secrets");
  }
  return vault_->Resolve(vars, secrets, &ctx->variables, &ctx->secrets);
}

absl::StatusOr<v1::Assignment> Scheduler::MakeAssignment(ActiveRun& run, int task,
                                                         int64_t attempt_id) {
  const TaskState& ts = run.tasks[task];
  AttemptInfo info;
  info.run_id = run.row.run_id;
  info.logical_date = FromMillis(run.row.logical_date);
  info.interval_start = FromMillis(run.row.interval_start);
  info.interval_end = FromMillis(run.row.interval_end);
  info.conf = run.row.conf;
  info.try_number = ts.row.try_number;
  info.attempt_id = attempt_id;
  info.task_id = ts.row.task_id;   // TASK[i] for an instance of a for_each task
  if (ts.map_parent >= 0) {
    info.map_index = ts.row.map_index;
    info.map_item = ts.row.map_item;
  }
  info.mapper_step = IsMapperStep(ts);
  return BuildAssignment(*run.dag, *ts.spec, info,
                         [this](const std::vector<std::string>& refs, dag::TemplateContext* ctx) {
                           return ResolveExternalRefs(refs, ctx);
                         });
}

bool Scheduler::CanTakeWork(const WorkerState& w) const {
  // A worker that let a lease lapse gets no new work until it is heard from again, even if its
  // stream is still open (a hung process, a half-open connection).
  return w.channel && !w.suspect && w.slots > static_cast<int>(w.attempts.size());
}

bool Scheduler::CanDispatch() const {
  if (ready_.empty() || stopping_ || StoreBackingOff()) return false;
  return std::any_of(workers_.begin(), workers_.end(),
                     [this](const auto& kv) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                       return CanTakeWork(kv.second);
                     });
}

void Scheduler::Dispatch() {
  if (!CanDispatch()) return;   // no transaction for nothing to do
  store::Transaction tx(store_->db());
  absl::Status st = tx.status();
  bool wrote = false;
  if (st.ok()) st = DispatchSteps(&wrote);
  if (!st.ok() || wrote || !outbox_.empty() || !pending_events_.empty()) {
    (void)FinishStep(tx, st, "dispatch");
  }
}

absl::Status Scheduler::DispatchSteps(bool* wrote) {
  if (!CanDispatch()) return absl::OkStatus();
  struct Free {
    WorkerState* w;
    int free;
  };
  std::vector<Free> free;
  for (auto& [name, w] : workers_) {
    if (CanTakeWork(w)) free.push_back({&w, w.slots - static_cast<int>(w.attempts.size())});
  }
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

  absl::Status st = absl::OkStatus();
  const int64_t now = ToMillis(clock_->Now());
  for (auto it = ready_.begin(); st.ok() && total_free > 0 && it != ready_.end();) {
    ActiveRun* run = FindRun(it->run_id);
    if (run == nullptr || run->tasks[it->task].state != TiState::kQueued) {
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
    a.task_id = ts.row.task_id;
    a.try_number = ts.row.try_number;
    a.worker = best->w->name;
    a.state = "running";
    a.started_at = now;
    *wrote = true;   // rows change (also when an attempt fails before reaching a worker)
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
      ts.last_attempt_id = *attempt_id;
      st = store_->UpdateAttempt(a);
      ts.row.error = a.error;
      if (st.ok()) st = OnTaskFailedFinal(*run, task);
      continue;
    }
    ts.attempt_id = *attempt_id;
    ts.last_attempt_id = *attempt_id;
    ts.row.started_at = now;
    ts.row.ended_at = 0;
    ts.row.worker = best->w->name;
    ts.row.error.clear();
    st = TransitionTask(*run, task, TiState::kRunning);
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
      log_paths_[*attempt_id] = LogPath(run->row.run_id, ts.row.task_id, ts.row.try_number);
    }
    v1::SchedulerMessage m;
    *m.mutable_assign() = std::move(*assignment);
    outbox_.push_back({best->w->channel, std::move(m)});
  }
  return st;
}

// ---------------------------------------------------------------------------------------------
// State samples for the observer (gauges): counts only, no store access.

void Scheduler::SampleState() {
  absl::MutexLock lock(&mu_);
  SampleStateLocked();
}

void Scheduler::SampleStateLocked() {
  if (observer_ == nullptr) return;
  StateSample s;
  s.at_ms = ToMillis(clock_->Now());
  for (const auto& [dag_id, ds] : schedules_) {
    for (RunState st : {RunState::kWaiting, RunState::kQueued, RunState::kRunning}) {
      s.runs[{dag_id, Name(st)}] = 0;
    }
    const int64_t next = NextScheduledLogicalDate(dag_id);
    s.dag_next_run_ms[dag_id] =
        next == 0 ? 0 : ToMillis(ds.schedule->IntervalStartingAt(FromMillis(next)).end);
  }
  for (const auto& [id, r] : runs_) {
    if (IsActive(r->state)) s.runs[{r->row.dag_id, Name(r->state)}]++;
  }
  std::map<std::string, int> queued;
  for (const ReadyKey& k : ready_) {
    const ActiveRun* r = FindRun(k.run_id);
    if (r != nullptr && r->tasks[k.task].state == TiState::kQueued) {
      queued[r->tasks[k.task].spec->pool]++;
    }
  }
  for (const auto& [id, fl] : inflight_) {
    const ActiveRun* r = FindRun(fl.run_id);
    if (r != nullptr) s.pool_slots_used[r->tasks[fl.task].spec->pool]++;
  }
  for (const auto& [pool, n] : options_.pool_slots) {
    s.pool_slots_open[pool] = std::max(0, n - s.pool_slots_used[pool]);
  }
  for (const auto& [name, w] : workers_) {
    if (!w.channel) continue;
    ++s.workers_connected;
    s.worker_free_slots[name] = std::max(0, w.slots - static_cast<int>(w.attempts.size()));
  }
  for (const auto& [pool, n] : queued) {
    // Starving: ready tasks no slot can take now (pool full, or no connected worker serving the
    // pool has a free slot). Dispatch runs after every change, so queued tasks are starving
    // tasks unless a slot is open right now.
    bool slot = false;
    auto cap = s.pool_slots_open.find(pool);
    if (cap == s.pool_slots_open.end() || cap->second > 0) {
      for (const auto& [name, w] : workers_) {
        if (!w.channel || w.suspect || w.slots <= static_cast<int>(w.attempts.size())) continue;
        if (w.pools.front() == "*" ||
            std::find(w.pools.begin(), w.pools.end(), pool) != w.pools.end()) {
          slot = true;
        }
      }
    }
    s.pool_starving[pool] = slot ? 0 : n;
  }
  for (const auto& [pool, n] : queued) s.pool_tasks[{pool, Name(TiState::kQueued)}] = n;
  for (const auto& [pool, n] : s.pool_slots_used) s.pool_tasks[{pool, Name(TiState::kRunning)}] = n;
  observer_->OnSample(s);
}

}  // namespace de::sched
