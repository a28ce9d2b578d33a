// The time half of Scheduler: cron runs with catchup, backfills, waits over time ranges,
// depends_on_past, and clearing tasks. All under the scheduler's lock, inside the caller's
// transaction unless the function opens its own (the public operator calls).
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "server/sched/deadlines.h"
#include "server/sched/scheduler.h"
#include "server/sched/ticks.h"
#include "server/sched/trigger_rules.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::FromMillis;
using common::ToMillis;

// Day-aligned ticks read best as dates; others as minutes.
std::string FormatTick(absl::Time t, absl::TimeZone tz) {
  absl::CivilSecond cs = absl::ToCivilSecond(t, tz);
  if (cs.hour() == 0 && cs.minute() == 0 && cs.second() == 0) {
    return absl::FormatTime("%Y-%m-%d", t, tz);
  }
  return absl::FormatTime("%Y-%m-%dT%H:%M", t, tz);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Runs.

absl::StatusOr<Scheduler::ActiveRun*> Scheduler::CreateRun(
    const std::string& dag_id, int version, const std::string& run_type, absl::Time logical,
    absl::Time start, absl::Time end, const std::map<std::string, std::string>& conf,
    const std::string& backfill_id) {
  DE_ASSIGN_OR_RETURN(auto spec, LoadDagVersion(dag_id, version));
  const std::string base = NewRunId(dag_id, run_type, logical);
  std::string run_id = base;
  for (int n = 2;; ++n) {
    DE_ASSIGN_OR_RETURN(bool exists, store_->RunExists(run_id));
    if (!exists) break;
    run_id = absl::StrCat(base, "_", n);
  }
  store::RunRow row;
  row.run_id = run_id;
  row.dag_id = dag_id;
  row.dag_version = version;
  row.run_type = run_type;
  row.state = Name(spec->wait_for.empty() ? RunState::kQueued : RunState::kWaiting);
  row.logical_date = ToMillis(logical);
  row.interval_start = ToMillis(start);
  row.interval_end = ToMillis(end);
  row.conf = conf;
  row.backfill_id = backfill_id;
  row.created_at = ToMillis(clock_->Now());
  if (spec->sla) row.deadline_at = DeadlineAt(*spec->sla, row);   // stored with the run
  DE_RETURN_IF_ERROR(store_->InsertRun(row));
  for (const auto& t : spec->tasks) {
    store::TaskInstanceRow ti;
    ti.run_id = run_id;
    ti.task_id = t.id;
    ti.state = Name(TiState::kScheduled);
    ti.max_tries = t.retry.retries + 1;
    if (t.deadline) ti.deadline_at = DeadlineAt(*t.deadline, row);
    DE_RETURN_IF_ERROR(store_->InsertTaskInstance(ti));
  }
  DE_RETURN_IF_ERROR(LoadRun(row));
  ActiveRun* run = FindRun(run_id);
  DE_RETURN_IF_ERROR(EmitRunCreated(*run));
  if (run->state == RunState::kWaiting) {
    std::vector<std::string> missing;
    DE_ASSIGN_OR_RETURN(bool ok, WaitsSatisfied(run->row, *spec, &missing));
    if (ok) {
      run->wait_deadline = absl::InfiniteFuture();
      DE_RETURN_IF_ERROR(TransitionRun(*run, RunState::kQueued));
    } else {
      spdlog::info("dag={} run={} waiting: {}", dag_id, run_id, absl::StrJoin(missing, "; "));
    }
  }
  DE_RETURN_IF_ERROR(StartRunIfAllowed(*run));
  return run;
}

absl::Status Scheduler::CancelActiveRun(ActiveRun& run, const std::string& reason) {
  // Set first: ending the last running attempt may be what finishes the run.
  if (IsActive(run.state)) run.row.reason = reason;
  for (size_t i = 0; i < run.tasks.size(); ++i) {
    TaskState& ts = run.tasks[i];
    if (ts.attempt_id != 0) {
      auto it = inflight_.find(ts.attempt_id);
      if (it != inflight_.end()) QueueCancel(it->second.worker, ts.attempt_id, reason);
      DE_RETURN_IF_ERROR(EndAttempt(ts.attempt_id, "cancelled", std::nullopt, reason, {}));
    } else if (ts.state == TiState::kScheduled || ts.state == TiState::kQueued ||
               ts.state == TiState::kUpForRetry) {
      retry_due_.erase({run.row.run_id, static_cast<int>(i)});
      DE_RETURN_IF_ERROR(TransitionTask(run, static_cast<int>(i), TiState::kCancelled));
    } else if (ts.state == TiState::kRunning && !ts.instances.empty()) {   // for_each
      DE_RETURN_IF_ERROR(TransitionTask(run, static_cast<int>(i), TiState::kCancelled));
    }
  }
  if (IsActive(run.state)) {
    run.row.reason = reason;
    DE_RETURN_IF_ERROR(TransitionRun(run, RunState::kCancelled));
    DE_RETURN_IF_ERROR(PromoteQueuedRuns(run.row.dag_id));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Schedules.

absl::Status Scheduler::LoadSchedulesAndBackfills() {
  schedules_.clear();
  DE_ASSIGN_OR_RETURN(auto dags, store_->ListDags());
  for (const auto& d : dags) {
    absl::Status st = RefreshDagSchedule(d.dag_id);
    if (!st.ok()) spdlog::error("dag={} schedule not loaded: {}", d.dag_id, st.ToString());
  }
  backfills_.clear();
  DE_ASSIGN_OR_RETURN(auto backfills, store_->ListBackfills(""));
  for (const auto& b : backfills) {
    if (b.state != "running") continue;
    auto spec = LoadDagVersion(b.dag_id, b.dag_version);
    auto schedule = spec.ok() ? dag::Schedule::Parse((*spec)->schedule, (*spec)->timezone,
                                                     (*spec)->start_date)
                              : absl::StatusOr<dag::Schedule>(spec.status());
    if (!schedule.ok()) {
      spdlog::error("dag={} backfill={} not resumed: version {}: {}", b.dag_id, b.backfill_id,
                    b.dag_version, schedule.status().ToString());
      continue;
    }
    BackfillState state;
    state.row = b;
    state.spec = *spec;
    state.schedule = std::make_shared<const dag::Schedule>(std::move(*schedule));
    bool truncated = false;
    state.dates = TicksIn(*state.schedule, FromMillis(b.from_date), FromMillis(b.to_date), true,
                          options_.max_backfill_intervals, &truncated);
    if (b.reverse) std::reverse(state.dates.begin(), state.dates.end());
    backfills_[b.backfill_id] = std::move(state);
  }
  return absl::OkStatus();
}

absl::Status Scheduler::RefreshDagSchedule(const std::string& dag_id) {
  DE_ASSIGN_OR_RETURN(auto d, store_->GetDag(dag_id));
  if (!d) {
    schedules_.erase(dag_id);
    return absl::OkStatus();
  }
  DagSchedule ds;
  ds.version = d->latest_version;
  ds.paused = d->paused;
  DE_ASSIGN_OR_RETURN(ds.spec, LoadDagVersion(dag_id, d->latest_version));
  if (!ds.spec->schedule.empty()) {
    DE_ASSIGN_OR_RETURN(auto schedule, dag::Schedule::Parse(ds.spec->schedule, ds.spec->timezone,
                                                                 ds.spec->start_date));
    ds.schedule = std::make_shared<const dag::Schedule>(std::move(schedule));
  }
  DE_ASSIGN_OR_RETURN(auto last, store_->LatestLogicalDate(dag_id, "scheduled"));
  if (last) ds.last_scheduled = FromMillis(*last);
  if (!ds.paused && ds.schedule && ds.spec->start_date) ds.next_due = clock_->Now();
  schedules_[dag_id] = std::move(ds);
  wake_ = true;
  return absl::OkStatus();
}

dag::DataInterval Scheduler::NextInterval(const DagSchedule& ds) const {
  const dag::Schedule& schedule = *ds.schedule;
  const absl::Time start_date = *ds.spec->start_date;
  dag::DataInterval next = ds.last_scheduled
                               ? schedule.IntervalStartingAt(schedule.Next(*ds.last_scheduled))
                               : schedule.FirstIntervalAtOrAfter(start_date);
  if (!ds.spec->catchup) {
    // Only the latest complete interval; the missed ones in between are skipped.
    auto latest = schedule.LatestCompleteInterval(clock_->Now(), start_date);
    if (latest && latest->start > next.start) next = *latest;
  }
  return next;
}

void Scheduler::FillNextRun(const std::string& dag_id, v1::DagSummary* s) {
  const int64_t next = NextScheduledLogicalDate(dag_id);
  s->set_next_run_logical_date_ms(next);
  if (next == 0) return;
  const DagSchedule& ds = schedules_.at(dag_id);
  s->set_next_run_created_at_ms(ToMillis(ds.schedule->IntervalStartingAt(FromMillis(next)).end));
}

absl::Status Scheduler::CreateScheduledRuns() {
  const absl::Time now = clock_->Now();
  for (auto& [dag_id, ds] : schedules_) {
    if (ds.next_due > now) continue;
    ds.next_due = absl::InfiniteFuture();
    if (ds.paused || !ds.schedule || !ds.spec->start_date || !options_.scheduled_runs) continue;
    const dag::DagSpec& spec = *ds.spec;
    for (int created = 0; created < 1000; ++created) {
      const dag::DataInterval iv = NextInterval(ds);
      if (spec.end_date && iv.start > *spec.end_date) break;   // the schedule is over
      if (iv.end > now) {
        ds.next_due = iv.end;   // wake when it ends
        break;
      }
      int active = 0;
      for (const auto& [id, r] : runs_) {
        active += r->row.dag_id == dag_id && r->row.run_type != "backfill" &&
                  IsActive(r->state);
      }
      if (active >= spec.max_active_runs) break;   // a finishing run sets next_due again
      DE_ASSIGN_OR_RETURN(auto existing, store_->FindIntervalRun(dag_id, ToMillis(iv.start)));
      if (!existing) {
        DE_RETURN_IF_ERROR(
            CreateRun(dag_id, ds.version, "scheduled", iv.start, iv.start, iv.end, {}, "")
                .status());
      }
      ds.last_scheduled = iv.start;
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Waits.

absl::StatusOr<bool> Scheduler::WaitsSatisfied(const store::RunRow& run, const dag::DagSpec& spec,
                                               std::vector<std::string>* missing) {
  bool ok = true;
  for (const auto& w : spec.wait_for) {
    if (w.kind != dag::WaitKind::kDag) continue;   // data waits: FileWaitsSatisfied
    if (!options_.wait_for_dags) continue;          // dag test: the other DAG is not here
    absl::Time from = FromMillis(run.interval_start);
    absl::Time to = FromMillis(run.interval_end);
    if (!w.window_is_interval) {
      from += w.window_from;
      to += w.window_to;
    }
    const std::string who = w.task.empty() ? w.dag : absl::StrCat(w.dag, ".", w.task);
    auto sit = schedules_.find(w.dag);
    if (sit == schedules_.end()) {
      ok = false;
      missing->push_back(absl::StrCat(who, ": DAG ", w.dag, " is not submitted"));
      continue;
    }
    DE_ASSIGN_OR_RETURN(auto done, store_->SucceededLogicalDates(w.dag, w.task, ToMillis(from),
                                                                 ToMillis(to)));
    const DagSchedule& up = sit->second;
    if (!up.schedule) {
      // A manual-only upstream: any successful run in the window will do.
      if (done.empty()) {
        ok = false;
        missing->push_back(absl::StrCat(who, ": no successful run in the window"));
      }
      continue;
    }
    // Expected intervals come from the upstream's schedule: a run that was never created counts
    // as missing.
    absl::Time lo = from;
    if (up.spec->start_date) lo = std::max(lo, *up.spec->start_date);
    absl::Time hi = to;
    bool truncated = false;
    std::vector<int64_t> expected = TicksIn(*up.schedule, lo, hi, false, 100000, &truncated);
    if (up.spec->end_date) {
      std::erase_if(expected, [&](int64_t t) { return FromMillis(t) > *up.spec->end_date; });
    }
    std::vector<std::string> gaps;
    int have = 0;
    for (int64_t t : expected) {
      if (done.count(t)) {
        ++have;
      } else {
        gaps.push_back(FormatTick(FromMillis(t), up.schedule->zone()));
      }
    }
    if (!gaps.empty()) {
      ok = false;
      std::string line = absl::StrCat(who, ": ", have, " of ", expected.size(),
                                      " intervals done; missing ");
      const size_t shown = std::min<size_t>(gaps.size(), 10);
      line += absl::StrJoin(gaps.begin(), gaps.begin() + shown, ", ");
      if (gaps.size() > shown) absl::StrAppend(&line, " and ", gaps.size() - shown, " more");
      missing->push_back(line);
    }
  }
  return FileWaitsSatisfied(run, spec, missing) && ok;
}

absl::Status Scheduler::RecheckWaiters(const std::string& upstream_dag) {
  std::vector<ActiveRun*> waiting;
  for (auto& [id, r] : runs_) {
    if (r->state != RunState::kWaiting) continue;
    bool relevant = upstream_dag.empty();
    for (const auto& w : r->dag->wait_for) relevant |= w.dag == upstream_dag;
    if (relevant) waiting.push_back(r.get());
  }
  std::sort(waiting.begin(), waiting.end(), [](const ActiveRun* a, const ActiveRun* b) {
    return a->row.logical_date < b->row.logical_date;
  });
  for (ActiveRun* r : waiting) DE_RETURN_IF_ERROR(ReleaseIfSatisfied(*r));
  return absl::OkStatus();
}

absl::Status Scheduler::ReleaseIfSatisfied(ActiveRun& r) {
  if (r.state != RunState::kWaiting) return absl::OkStatus();
  std::vector<std::string> missing;
  DE_ASSIGN_OR_RETURN(bool ok, WaitsSatisfied(r.row, *r.dag, &missing));
  if (!ok) return absl::OkStatus();
  spdlog::info("dag={} run={} waits satisfied", r.row.dag_id, r.row.run_id);
  r.wait_deadline = absl::InfiniteFuture();
  DE_RETURN_IF_ERROR(TransitionRun(r, RunState::kQueued));
  return StartRunIfAllowed(r);
}

// ---------------------------------------------------------------------------------------------
// Clear.

absl::Status Scheduler::ClearTasks(const std::string& run_id,
                                   const std::set<std::string>& task_ids) {
  ActiveRun* run = FindRun(run_id);
  if (run == nullptr) {
    DE_ASSIGN_OR_RETURN(auto row, store_->GetRun(run_id));
    if (!row) return absl::NotFoundError(absl::StrCat("no run '", run_id, "'"));
    DE_RETURN_IF_ERROR(LoadRun(*row));
    run = FindRun(run_id);
  }
  for (const auto& id : task_ids) {
    auto it = run->index.find(id);
    if (it == run->index.end()) continue;
    if (run->tasks[it->second].state == TiState::kRunning) {
      return absl::FailedPreconditionError(absl::StrCat(
          "task ", id, " of run ", run_id, " is running; wait for it or cancel the run"));
    }
  }
  for (const auto& id : task_ids) {
    auto it = run->index.find(id);
    if (it == run->index.end()) continue;
    TaskState& ts = run->tasks[it->second];
    if (ts.state == TiState::kQueued) continue;
    retry_due_.erase({run_id, it->second});
    ts.row.max_tries = (ts.row.try_number - ts.row.lost_count) + ts.spec->retry.retries + 1;
    ts.row.next_retry_at = 0;
    ts.row.error.clear();
    ts.row.counters.clear();
    ts.row.ended_at = 0;
    if (ts.state == TiState::kScheduled) {
      DE_RETURN_IF_ERROR(store_->UpdateTaskInstance(ts.row));   // fresh tries, same state
    } else {
      DE_RETURN_IF_ERROR(TransitionTask(*run, it->second, TiState::kScheduled));
    }
    if (!run->tasks[it->second].instances.empty()) {
      DE_RETURN_IF_ERROR(ClearInstances(*run, it->second, task_ids));
    }
  }
  if (!IsActive(run->state)) {
    run->row.reason.clear();
    run->row.started_at = 0;   // this execution's times; attempts keep the history
    run->row.ended_at = 0;
    DE_RETURN_IF_ERROR(TransitionRun(*run, RunState::kQueued));
    DE_RETURN_IF_ERROR(StartRunIfAllowed(*run));
  } else {
    DE_RETURN_IF_ERROR(QueueReadyTasks(*run));
  }
  spdlog::info("run={} cleared {} tasks", run_id, task_ids.size());
  return absl::OkStatus();
}

absl::StatusOr<v1::Run> Scheduler::ClearRun(const v1::ClearRunRequest& req) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(auto row, store_->GetRun(req.run_id()));
  if (!row) return absl::NotFoundError(absl::StrCat("no run '", req.run_id(), "'"));
  DE_ASSIGN_OR_RETURN(auto spec, LoadDagVersion(row->dag_id, row->dag_version));
  std::set<std::string> chosen;
  if (req.task_ids().empty()) {
    for (const auto& t : spec->tasks) chosen.insert(t.id);
  } else {
    for (const auto& id : req.task_ids()) {
      if (auto inst = ParseMappedInstanceId(id); inst && spec->FindTask(inst->first)) {
        chosen.insert(inst->first);   // an instance TASK[i]: its task comes back with it
        chosen.insert(id);
        continue;
      } else if (spec->FindTask(id) == nullptr) {
        return absl::NotFoundError(absl::StrCat("run ", req.run_id(), " has no task '", id, "'"));
      }
      chosen.insert(id);
    }
  }
  if (req.downstream()) {
    bool grew = true;
    while (grew) {
      grew = false;
      for (const auto& t : spec->tasks) {
        if (chosen.count(t.id)) continue;
        for (const auto& n : t.needs) {
          if (chosen.count(n)) {
            chosen.insert(t.id);
            grew = true;
            break;
          }
        }
      }
    }
  }
  DE_ASSIGN_OR_RETURN(auto tis, store_->ListTaskInstances(req.run_id()));
  std::map<std::string, TiState> states;
  for (const auto& ti : tis) {
    if (std::optional<TiState> st = ParseTiState(ti.state)) states[ti.task_id] = *st;
  }
  if (req.failed_only()) {
    std::set<std::string> failed;
    for (const auto& [id, st] : states) {
      auto inst = ParseMappedInstanceId(id);   // for_each instances go with their task
      const bool named = chosen.count(id) || (inst && chosen.count(inst->first));
      if (named && (IsFailedLike(st) || st == TiState::kCancelled)) failed.insert(id);
    }
    chosen = std::move(failed);
  }
  // Tasks that ran or ended by their trigger rule after a cleared task are decided again.
  chosen = WithRuleDependants(*spec, states, std::move(chosen));
  if (chosen.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("nothing to clear in run ", req.run_id(), ": no task matches"));
  }
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  DE_RETURN_IF_ERROR(FinishStep(tx, ClearTasks(req.run_id(), chosen), "clear"));
  Dispatch();
  DE_ASSIGN_OR_RETURN(v1::Run run, RunToProto(req.run_id()));
  for (const auto& t : spec->tasks) {  // in the DAG's order
    if (chosen.count(t.id)) run.add_cleared_task_ids(t.id);
  }
  return run;
}

}  // namespace de::sched
