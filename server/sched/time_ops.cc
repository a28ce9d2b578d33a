// The time half of Scheduler: cron runs with catchup, backfills, waits over time ranges,
// depends_on_past, and clearing tasks. All under the scheduler's lock, inside the caller's
// transaction unless the function opens its own (the public operator calls).
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

bool IsActiveState(const std::string& s) {
  return s == "waiting" || s == "queued" || s == "running";
}

// Day-aligned ticks read best as dates; others as minutes.
std::string FormatTick(absl::Time t, absl::TimeZone tz) {
  absl::CivilSecond cs = absl::ToCivilSecond(t, tz);
  if (cs.hour() == 0 && cs.minute() == 0 && cs.second() == 0) {
    return absl::FormatTime("%Y-%m-%d", t, tz);
  }
  return absl::FormatTime("%Y-%m-%dT%H:%M", t, tz);
}

// Ticks t of `schedule` with from <= t <= to (inclusive_end) or from <= t < to; at most `cap`.
std::vector<int64_t> TicksIn(const dag::Schedule& schedule, absl::Time from, absl::Time to,
                             bool inclusive_end, size_t cap, bool* truncated) {
  std::vector<int64_t> out;
  *truncated = false;
  absl::Time t = schedule.IsTick(from) ? from : schedule.Next(from);
  while (inclusive_end ? t <= to : t < to) {
    if (out.size() >= cap) {
      *truncated = true;
      break;
    }
    out.push_back(ToMillis(t));
    t = schedule.Next(t);
  }
  return out;
}

std::string NewRunId(const std::string& dag_id, const std::string& type, absl::Time logical) {
  return absl::StrCat(dag_id, "__", type, "__",
                      absl::FormatTime("%Y%m%dT%H%M%SZ", logical, absl::UTCTimeZone()));
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
  row.state = spec->wait_for.empty() ? "queued" : "waiting";
  row.logical_date = ToMillis(logical);
  row.interval_start = ToMillis(start);
  row.interval_end = ToMillis(end);
  row.conf = conf;
  row.backfill_id = backfill_id;
  row.created_at = ToMillis(clock_->Now());
  DE_RETURN_IF_ERROR(store_->InsertRun(row));
  for (const auto& t : spec->tasks) {
    store::TaskInstanceRow ti;
    ti.run_id = run_id;
    ti.task_id = t.id;
    ti.state = "scheduled";
    ti.max_tries = t.retry.retries + 1;
    DE_RETURN_IF_ERROR(store_->InsertTaskInstance(ti));
  }
  DE_RETURN_IF_ERROR(LoadRun(row));
  ActiveRun* run = FindRun(run_id);
  if (run->row.state == "waiting") {
    std::vector<std::string> missing;
    DE_ASSIGN_OR_RETURN(bool ok, WaitsSatisfied(run->row, *spec, &missing));
    if (ok) {
      run->row.state = "queued";
      DE_RETURN_IF_ERROR(store_->UpdateRun(run->row));
    } else {
      spdlog::info("dag={} run={} waiting: {}", dag_id, run_id, absl::StrJoin(missing, "; "));
    }
  }
  DE_RETURN_IF_ERROR(StartRunIfAllowed(*run));
  spdlog::info("dag={} run={} created ({}, {})", dag_id, run_id, run_type, run->row.state);
  return run;
}

absl::Status Scheduler::CancelActiveRun(ActiveRun& run, const std::string& reason) {
  // Set first: ending the last running attempt may be what finishes the run.
  if (IsActiveState(run.row.state)) run.row.reason = reason;
  for (size_t i = 0; i < run.tasks.size(); ++i) {
    TaskState& ts = run.tasks[i];
    if (ts.attempt_id != 0) {
      auto it = inflight_.find(ts.attempt_id);
      if (it != inflight_.end()) QueueCancel(it->second.worker, ts.attempt_id, reason);
      DE_RETURN_IF_ERROR(EndAttempt(ts.attempt_id, "cancelled", std::nullopt, reason, {}));
    } else if (ts.row.state == "scheduled" || ts.row.state == "queued" ||
               ts.row.state == "up_for_retry") {
      retry_due_.erase({run.row.run_id, static_cast<int>(i)});
      DE_RETURN_IF_ERROR(SetTaskState(run, static_cast<int>(i), "cancelled"));
    }
  }
  if (IsActiveState(run.row.state)) {
    run.row.state = "cancelled";
    run.row.reason = reason;
    run.row.ended_at = ToMillis(clock_->Now());
    DE_RETURN_IF_ERROR(store_->UpdateRun(run.row));
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
    if (!spec.ok()) continue;
    auto schedule = dag::Schedule::Parse((*spec)->schedule, (*spec)->timezone);
    if (!schedule.ok()) continue;
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
    DE_ASSIGN_OR_RETURN(auto schedule, dag::Schedule::Parse(ds.spec->schedule, ds.spec->timezone));
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

absl::Status Scheduler::CreateScheduledRuns() {
  const absl::Time now = clock_->Now();
  for (auto& [dag_id, ds] : schedules_) {
    if (ds.next_due > now) continue;
    ds.next_due = absl::InfiniteFuture();
    if (ds.paused || !ds.schedule || !ds.spec->start_date) continue;
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
                  IsActiveState(r->row.state);
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
  return ok;
}

absl::Status Scheduler::RecheckWaiters(const std::string& upstream_dag) {
  std::vector<ActiveRun*> waiting;
  for (auto& [id, r] : runs_) {
    if (r->row.state != "waiting") continue;
    bool relevant = upstream_dag.empty();
    for (const auto& w : r->dag->wait_for) relevant |= w.dag == upstream_dag;
    if (relevant) waiting.push_back(r.get());
  }
  std::sort(waiting.begin(), waiting.end(), [](const ActiveRun* a, const ActiveRun* b) {
    return a->row.logical_date < b->row.logical_date;
  });
  for (ActiveRun* r : waiting) {
    std::vector<std::string> missing;
    DE_ASSIGN_OR_RETURN(bool ok, WaitsSatisfied(r->row, *r->dag, &missing));
    if (!ok) continue;
    spdlog::info("dag={} run={} waits satisfied", r->row.dag_id, r->row.run_id);
    r->row.state = "queued";
    r->wait_deadline = absl::InfiniteFuture();
    DE_RETURN_IF_ERROR(store_->UpdateRun(r->row));
    DE_RETURN_IF_ERROR(StartRunIfAllowed(*r));
  }
  return absl::OkStatus();
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
    if (run->tasks[it->second].row.state == "running") {
      return absl::FailedPreconditionError(absl::StrCat(
          "task ", id, " of run ", run_id, " is running; wait for it or cancel the run"));
    }
  }
  for (const auto& id : task_ids) {
    auto it = run->index.find(id);
    if (it == run->index.end()) continue;
    TaskState& ts = run->tasks[it->second];
    if (ts.row.state == "queued") continue;
    retry_due_.erase({run_id, it->second});
    ts.row.max_tries = (ts.row.try_number - ts.row.lost_count) + ts.spec->retry.retries + 1;
    ts.row.next_retry_at = 0;
    ts.row.error.clear();
    ts.row.counters.clear();
    ts.row.ended_at = 0;
    DE_RETURN_IF_ERROR(SetTaskState(*run, it->second, "scheduled"));
  }
  if (!IsActiveState(run->row.state)) {
    run->row.state = "queued";
    run->row.reason.clear();
    run->row.started_at = 0;   // this execution's times; attempts keep the history
    run->row.ended_at = 0;
    DE_RETURN_IF_ERROR(store_->UpdateRun(run->row));
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
      if (spec->FindTask(id) == nullptr) {
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
  if (req.failed_only()) {
    DE_ASSIGN_OR_RETURN(auto tis, store_->ListTaskInstances(req.run_id()));
    std::set<std::string> failed;
    for (const auto& ti : tis) {
      if (chosen.count(ti.task_id) && (ti.state == "failed" || ti.state == "upstream_failed" ||
                                       ti.state == "cancelled")) {
        failed.insert(ti.task_id);
      }
    }
    chosen = std::move(failed);
  }
  if (chosen.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("nothing to clear in run ", req.run_id(), ": no task matches"));
  }
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  absl::Status st = ClearTasks(req.run_id(), chosen);
  if (!st.ok()) {
    ReloadAfterStoreFailure();
    return st;
  }
  CommitAndFlush(tx, "clear");
  Dispatch();
  return RunToProto(req.run_id());
}

// ---------------------------------------------------------------------------------------------
// Backfills.

absl::StatusOr<v1::Backfill> Scheduler::CreateBackfill(const v1::CreateBackfillRequest& req) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(auto d, store_->GetDag(req.dag_id()));
  if (!d) return absl::NotFoundError(absl::StrCat("no DAG named '", req.dag_id(), "'"));
  DE_ASSIGN_OR_RETURN(auto spec, LoadDagVersion(req.dag_id(), d->latest_version));
  if (spec->schedule.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "DAG ", req.dag_id(), " has no schedule: a backfill needs one to know its intervals"));
  }
  const std::string rerun = req.rerun().empty() ? "none" : req.rerun();
  if (rerun != "none" && rerun != "failed" && rerun != "all") {
    return absl::InvalidArgumentError(
        absl::StrCat("--rerun must be none, failed or all, not '", rerun, "'"));
  }
  if (req.to_ms() < req.from_ms()) {
    return absl::InvalidArgumentError("backfill range is empty: --to is before --from");
  }
  DE_ASSIGN_OR_RETURN(auto schedule, dag::Schedule::Parse(spec->schedule, spec->timezone));
  bool truncated = false;
  std::vector<int64_t> dates =
      TicksIn(schedule, FromMillis(req.from_ms()), FromMillis(req.to_ms()), true,
              options_.max_backfill_intervals, &truncated);
  if (truncated) {
    return absl::InvalidArgumentError(absl::StrCat("backfill range has more than ",
                                                   options_.max_backfill_intervals,
                                                   " intervals; split it"));
  }
  if (req.reverse()) std::reverse(dates.begin(), dates.end());
  store::BackfillRow row;
  row.dag_id = req.dag_id();
  row.dag_version = d->latest_version;
  row.from_date = req.from_ms();
  row.to_date = req.to_ms();
  row.rerun = rerun;
  row.reverse = req.reverse();
  row.max_active = req.max_active() > 0 ? req.max_active() : spec->max_active_runs;
  row.conf = std::map<std::string, std::string>(req.conf().begin(), req.conf().end());
  row.total = static_cast<int>(dates.size());
  row.created_at = ToMillis(clock_->Now());
  if (req.dry_run()) {
    row.state = "dry_run";
    DE_ASSIGN_OR_RETURN(v1::Backfill out, BackfillToProto(row));
    for (int64_t t : dates) out.add_logical_dates_ms(t);
    return out;
  }
  const std::string base = NewRunId(req.dag_id(), "backfill", clock_->Now());
  row.backfill_id = base;
  for (int n = 2;; ++n) {
    DE_ASSIGN_OR_RETURN(auto existing, store_->GetBackfill(row.backfill_id));
    if (!existing) break;
    row.backfill_id = absl::StrCat(base, "_", n);
  }
  row.state = "running";
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  DE_RETURN_IF_ERROR(store_->InsertBackfill(row));
  BackfillState& state = backfills_[row.backfill_id];
  state.row = row;
  state.dates = std::move(dates);
  state.spec = spec;
  state.schedule = std::make_shared<const dag::Schedule>(std::move(schedule));
  absl::Status st = ProgressBackfill(state);
  if (!st.ok()) {
    ReloadAfterStoreFailure();
    return st;
  }
  const std::string id = row.backfill_id;
  spdlog::info("dag={} backfill={} created: {} intervals, rerun {}, max_active {}", req.dag_id(),
               id, row.total, rerun, row.max_active);
  CommitAndFlush(tx, "backfill");
  Dispatch();
  DE_ASSIGN_OR_RETURN(auto stored, store_->GetBackfill(id));
  return BackfillToProto(*stored);
}

absl::Status Scheduler::ProgressBackfills() {
  for (auto& [id, b] : backfills_) DE_RETURN_IF_ERROR(ProgressBackfill(b));
  return absl::OkStatus();
}

absl::Status Scheduler::ProgressBackfill(BackfillState& b) {
  if (b.row.state != "running") return absl::OkStatus();
  const dag::DagSpec& spec = *b.spec;
  auto active_count = [&] {
    int n = 0;
    for (const auto& [id, r] : runs_) {
      n += r->row.backfill_id == b.row.backfill_id && IsActiveState(r->row.state);
    }
    return n;
  };
  int active = active_count();
  const int before = b.row.cursor;
  while (b.row.cursor < b.row.total && active < b.row.max_active) {
    const absl::Time t = FromMillis(b.dates[b.row.cursor]);
    DE_ASSIGN_OR_RETURN(auto existing, store_->FindIntervalRun(b.row.dag_id, ToMillis(t)));
    if (existing) {
      const bool is_active = FindRun(existing->run_id) != nullptr;
      const bool redo = !is_active && (b.row.rerun == "all" ||
                                       (b.row.rerun == "failed" && (existing->state == "failed" ||
                                                                    existing->state == "cancelled")));
      if (redo) {
        DE_RETURN_IF_ERROR(store_->SetRunBackfill(existing->run_id, b.row.backfill_id));
        std::set<std::string> all;
        for (const auto& task : spec.tasks) all.insert(task.id);
        DE_RETURN_IF_ERROR(ClearTasks(existing->run_id, all));
        ++active;
      } else {
        ++b.row.kept;
      }
    } else {
      dag::DataInterval iv = b.schedule->IntervalStartingAt(t);
      DE_RETURN_IF_ERROR(CreateRun(b.row.dag_id, b.row.dag_version, "backfill", t, iv.start,
                                   iv.end, b.row.conf, b.row.backfill_id)
                             .status());
      ++active;
    }
    ++b.row.cursor;
  }
  if (b.row.cursor == b.row.total && active_count() == 0) {
    DE_ASSIGN_OR_RETURN(auto states, store_->BackfillRunStates(b.row.backfill_id));
    b.row.state = (states["failed"] + states["cancelled"]) > 0 ? "failed" : "success";
    b.row.ended_at = ToMillis(clock_->Now());
    spdlog::info("backfill={} finished: {}", b.row.backfill_id, b.row.state);
  }
  if (b.row.cursor != before || b.row.state != "running") {
    DE_RETURN_IF_ERROR(store_->UpdateBackfill(b.row));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Backfill> Scheduler::BackfillToProto(const store::BackfillRow& row) {
  v1::Backfill out;
  out.set_backfill_id(row.backfill_id);
  out.set_dag_id(row.dag_id);
  out.set_from_ms(row.from_date);
  out.set_to_ms(row.to_date);
  out.set_rerun(row.rerun);
  out.set_reverse(row.reverse);
  out.set_max_active(row.max_active);
  out.set_state(row.state);
  out.set_created_at_ms(row.created_at);
  out.set_ended_at_ms(row.ended_at);
  out.set_total(row.total);
  for (const auto& [k, v] : row.conf) (*out.mutable_conf())[k] = v;
  if (!row.backfill_id.empty()) {
    DE_ASSIGN_OR_RETURN(auto states, store_->BackfillRunStates(row.backfill_id));
    for (const auto& [state, n] : states) (*out.mutable_runs_by_state())[state] = n;
  }
  if (row.kept > 0) (*out.mutable_runs_by_state())["kept"] = row.kept;
  if (row.total - row.cursor > 0 && row.state != "dry_run") {
    (*out.mutable_runs_by_state())["pending"] = row.total - row.cursor;
  }
  return out;
}

absl::StatusOr<v1::ListBackfillsResponse> Scheduler::ListBackfills(const std::string& dag_id) {
  absl::MutexLock lock(&mu_);
  v1::ListBackfillsResponse resp;
  DE_ASSIGN_OR_RETURN(auto rows, store_->ListBackfills(dag_id));
  for (const auto& r : rows) {
    DE_ASSIGN_OR_RETURN(*resp.add_backfills(), BackfillToProto(r));
  }
  return resp;
}

absl::StatusOr<v1::Backfill> Scheduler::GetBackfill(const std::string& backfill_id) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(auto row, store_->GetBackfill(backfill_id));
  if (!row) return absl::NotFoundError(absl::StrCat("no backfill '", backfill_id, "'"));
  return BackfillToProto(*row);
}

absl::StatusOr<v1::Backfill> Scheduler::CancelBackfill(const std::string& backfill_id) {
  absl::MutexLock lock(&mu_);
  auto it = backfills_.find(backfill_id);
  if (it == backfills_.end()) {
    DE_ASSIGN_OR_RETURN(auto row, store_->GetBackfill(backfill_id));
    if (!row) return absl::NotFoundError(absl::StrCat("no backfill '", backfill_id, "'"));
    return absl::FailedPreconditionError(
        absl::StrCat("backfill ", backfill_id, " has already finished (", row->state, ")"));
  }
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  BackfillState& b = it->second;
  b.row.state = "cancelled";
  b.row.ended_at = ToMillis(clock_->Now());
  absl::Status st = store_->UpdateBackfill(b.row);
  for (auto& [id, r] : runs_) {
    if (!st.ok()) break;
    if (r->row.backfill_id == backfill_id && IsActiveState(r->row.state)) {
      st = CancelActiveRun(*r, "backfill cancelled");
    }
  }
  if (!st.ok()) {
    ReloadAfterStoreFailure();
    return st;
  }
  store::BackfillRow row = b.row;
  CommitAndFlush(tx, "cancel backfill");
  Dispatch();
  return BackfillToProto(row);
}

}  // namespace de::sched
