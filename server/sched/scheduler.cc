#include "server/sched/scheduler.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dag/loader.h"
#include "common/dag/schedule.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::FromMillis;
using common::ToMillis;

// The request itself was refused (its own error, told to the caller as is), as opposed to a
// failure of the store or of the scheduler that a retry would meet again.
bool IsRefusal(const absl::Status& st) {
  switch (st.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return true;
    default:
      return false;
  }
}

}  // namespace

Scheduler::Scheduler(std::unique_ptr<store::Store> store, const common::Clock* clock,
                     SchedulerOptions options)
    : db_path_(store->db()->path()),
      durable_(store->db()),
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
  std::optional<RunState> state = ParseRunState(row.state);
  if (!state) {
    return absl::DataLossError(absl::StrCat("run ", row.run_id, " has unknown state '", row.state, "'"));
  }
  run->state = *state;
  DE_ASSIGN_OR_RETURN(auto tis, store_->ListTaskInstances(row.run_id));
  for (auto& ti : tis) {
    if (ti.map_index >= 0) {   // an instance of a for_each task
      DE_RETURN_IF_ERROR(LoadInstance(*run, std::move(ti)));
      continue;
    }
    auto it = run->index.find(ti.task_id);
    if (it == run->index.end()) continue;
    std::optional<TiState> ts = ParseTiState(ti.state);
    if (!ts) {
      return absl::DataLossError(absl::StrCat("task ", ti.task_id, " of run ", row.run_id,
                                              " has unknown state '", ti.state, "'"));
    }
    run->tasks[it->second].state = *ts;
    run->tasks[it->second].row = std::move(ti);
  }
  for (const auto& t : run->tasks) run->unfinished += !IsFinished(t.state);
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
    ts.last_attempt_id = a.attempt_id;
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
  ComputeDeadlines(*r);
  if (r->state == RunState::kWaiting) {
    for (const auto& w : spec->wait_for) {
      if (w.timeout) {
        r->wait_deadline = std::min(r->wait_deadline, FromMillis(row.created_at) + *w.timeout);
      }
    }
    TrackFileWaits(*r);
  }
  for (size_t i = 0; i < r->tasks.size(); ++i) {
    const auto& ti = r->tasks[i].row;
    if (r->tasks[i].state == TiState::kQueued) Enqueue(*r, static_cast<int>(i));
    if (r->tasks[i].state == TiState::kUpForRetry) retry_due_[{row.run_id, static_cast<int>(i)}] = ti.next_retry_at;
  }
  return absl::OkStatus();
}

absl::Status Scheduler::Recover() {
  absl::MutexLock lock(&mu_);
  DE_RETURN_IF_ERROR(LoadState());
  std::set<std::string> dags;
  for (const auto& [id, run] : runs_) dags.insert(run->row.dag_id);
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  for (const auto& d : dags) DE_RETURN_IF_ERROR(PromoteQueuedRuns(d));
  DE_RETURN_IF_ERROR(RecheckWaiters(""));
  DE_RETURN_IF_ERROR(ProgressBackfills());
  DE_RETURN_IF_ERROR(CommitEvents(tx));
  spdlog::info("recovered {} unfinished runs, {} running attempts", runs_.size(),
               inflight_.size());
  return absl::OkStatus();
}

void Scheduler::ReloadAfterFailure(bool back_off) {
  ++store_reloads_;
  if (back_off) {
    store_backoff_ = std::clamp(store_backoff_ * 2, absl::Milliseconds(250), absl::Seconds(30));
    store_retry_at_ = clock_->Now() + store_backoff_;
    spdlog::error("reloading scheduler state from the database; background writes resume in "
                  "{}ms, {} worker results kept until then",
                  absl::ToInt64Milliseconds(store_backoff_), PendingResults());
  }
  outbox_.clear();
  pending_events_.clear();   // their transaction rolled back
  absl::Status st = LoadState();
  if (!st.ok()) spdlog::critical("cannot reload the state from the database: {}", st.ToString());
}

absl::Status Scheduler::LoadState() {
  runs_.clear();
  inflight_.clear();
  ready_.clear();
  retry_due_.clear();
  for (auto& [name, w] : workers_) w.attempts.clear();
  std::vector<store::UnreadableRun> unloadable;
  DE_ASSIGN_OR_RETURN(auto rows, store_->ListUnfinishedRuns(&unloadable));
  for (const auto& row : rows) {
    absl::Status st = LoadRun(row);
    if (st.ok()) continue;
    runs_.erase(row.run_id);
    if (st.code() == absl::StatusCode::kDataLoss) {
      unloadable.push_back({row.run_id, st});
    } else {
      spdlog::error("run={} cannot be resumed now: {}", row.run_id, st.ToString());
    }
  }
  FailUnloadableRuns(unloadable);
  return LoadSchedulesAndBackfills();
}

void Scheduler::FailUnloadableRuns(const std::vector<store::UnreadableRun>& runs) {
  if (runs.empty()) return;
  const int64_t now = ToMillis(clock_->Now());
  store::Transaction tx(store_->db());
  absl::Status st = tx.status();
  for (const auto& u : runs) {
    spdlog::critical("run={} cannot be loaded and is marked failed; every other run goes on: {}",
                     u.run_id, u.error.ToString());
    if (st.ok()) {
      st = store_->FailUnloadableRun(u.run_id, absl::StrCat("data_loss: ", u.error.message()),
                                     now);
    }
  }
  if (st.ok()) st = tx.Commit();
  if (!st.ok()) {
    spdlog::error("cannot mark {} unloadable runs failed (tried again at the next load): {}",
                  runs.size(), st.ToString());
  }
}

Scheduler::ActiveRun* Scheduler::FindRun(const std::string& run_id) {
  auto it = runs_.find(run_id);
  return it == runs_.end() ? nullptr : it->second.get();
}


void Scheduler::AddEventListener(EventListener* listener) {
  absl::MutexLock lock(&mu_);
  listeners_.push_back(listener);
}

void Scheduler::SetVault(vault::Vault* vault) { vault_ = vault; }

void Scheduler::SetObserver(SchedulerObserver* observer) {
  absl::MutexLock lock(&mu_);
  observer_ = observer;
}

absl::Status Scheduler::CommitEvents(store::Transaction& tx) {
  const absl::Time t0 = absl::Now();
  absl::Status st = tx.Commit();
  if (observer_ != nullptr) observer_->OnCommit(absl::Now() - t0);
  std::vector<Event> events;
  events.swap(pending_events_);
  if (!st.ok()) return st;   // rolled back: the events never happened
  if (!events.empty()) {
    for (EventListener* l : listeners_) l->OnCommitted(events);
  }
  return absl::OkStatus();
}

bool Scheduler::StoreBackingOff() const { return clock_->Now() < store_retry_at_; }

int64_t Scheduler::StoreReloads() {
  absl::MutexLock lock(&mu_);
  return store_reloads_;
}

int Scheduler::PendingResults() {
  absl::MutexLock lock(&results_mu_);
  return static_cast<int>(results_.size());
}

absl::Status Scheduler::FinishStep(store::Transaction& tx, const absl::Status& step,
                                    const char* what) {
  const absl::Status st = step.ok() ? CommitEvents(tx) : step;
  if (!st.ok()) {
    // A refused request (not found, a running task, ...) says so as it is. Anything else (the
    // store failed, a row did not decode, a bug) would likely fail again at once: back off.
    const bool refused = !step.ok() && IsRefusal(step);
    if (refused) {
      spdlog::warn("{} refused, nothing of it kept: {}", what, st.ToString());
    } else {
      spdlog::error("cannot commit {}: {}", what, st.ToString());
    }
    tx.Rollback();   // before the reload: reading through the open transaction would see its writes
    ReloadAfterFailure(/*back_off=*/!refused);
    if (refused) return step;
    return absl::Status(st.code(), absl::StrCat("cannot commit ", what, ": ", st.message()));
  }
  store_retry_at_ = absl::InfinitePast();   // the store takes writes again
  store_backoff_ = absl::ZeroDuration();
  for (auto& o : outbox_) o.channel->Send(o.msg);
  outbox_.clear();
  for (auto it = backfills_.begin(); it != backfills_.end();) {
    it = it->second.row.state != "running" ? backfills_.erase(it) : std::next(it);
  }
  for (auto it = runs_.begin(); it != runs_.end();) {
    if (IsFinished(it->second->state)) {
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
  wake_ = true;
  return absl::OkStatus();
}

}  // namespace de::sched
