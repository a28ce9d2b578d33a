// The operator-facing half of Scheduler: DAG submission, triggers, and read models.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dag/dag_params.h"
#include "common/dag/loader.h"
#include "common/dag/schedule.h"
#include "common/dag/suggest.h"
#include "common/dag/trigger_rule.h"
#include "common/limits.h"
#include "common/status.h"
#include "server/sched/assignment.h"
#include "server/sched/scheduler.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::FromMillis;
using common::ToMillis;

void FillDiagnostics(const std::vector<dag::Diagnostic>& errors,
                     google::protobuf::RepeatedPtrField<v1::Diagnostic>* out) {
  for (const auto& e : errors) {
    v1::Diagnostic* d = out->Add();
    d->set_file(e.file);
    d->set_line(e.line);
    d->set_column(e.column);
    d->set_message(e.message);
  }
}

// Every {{ var.X }} / {{ secret.X }} of `spec` must exist when the DAG is submitted (a typo is
// an error at submit, not a failed task at 3 a.m.).
void CheckExternalRefs(const dag::DagSpec& spec, const std::string& source, vault::Vault* vault,
                       std::vector<dag::Diagnostic>* errors) {
  for (const dag::ExternalRef& r : spec.external_refs) {
    const bool secret = r.name.starts_with(dag::kSecretPrefix);
    const std::string name =
        r.name.substr(secret ? dag::kSecretPrefix.size() : dag::kVarPrefix.size());
    if (vault != nullptr && (secret ? vault->HasSecret(name) : vault->HasVariable(name))) continue;
    errors->push_back(
        {source, r.line, r.column,
         vault == nullptr
             ? absl::StrCat("'{{ ", r.name, " }}': this scheduler has no variables or secrets")
             : absl::StrCat("unknown ", secret ? "secret" : "variable", " '", name, "' in '{{ ",
                            r.name, " }}' (set it first: dectl ", secret ? "secret" : "var",
                            " set ", name, secret ? "" : " VALUE", ")")});
  }
}

void FillRunHeader(const store::RunRow& r, v1::Run* out) {
  out->set_run_id(r.run_id);
  out->set_dag_id(r.dag_id);
  out->set_dag_version(r.dag_version);
  out->set_run_type(r.run_type);
  out->set_state(r.state);
  out->set_logical_date_ms(r.logical_date);
  out->set_data_interval_start_ms(r.interval_start);
  out->set_data_interval_end_ms(r.interval_end);
  out->set_created_at_ms(r.created_at);
  out->set_started_at_ms(r.started_at);
  out->set_ended_at_ms(r.ended_at);
  for (const auto& [k, v] : r.conf) (*out->mutable_conf())[k] = v;
  out->set_reason(r.reason);
  out->set_backfill_id(r.backfill_id);
  out->set_deadline_ms(r.deadline_at);
  out->set_deadline_missed_at_ms(r.deadline_missed_at);
}

}  // namespace

int64_t Scheduler::NextScheduledLogicalDate(const std::string& dag_id) {
  auto it = schedules_.find(dag_id);
  if (it == schedules_.end()) return 0;
  const DagSchedule& ds = it->second;
  if (ds.paused || !ds.schedule || !ds.spec->start_date) return 0;
  const absl::Time next = NextInterval(ds).start;
  if (ds.spec->end_date && next > *ds.spec->end_date) return 0;   // the schedule is over
  return ToMillis(next);
}

absl::StatusOr<store::Store*> Scheduler::ReadStore() {
  if (read_store_ == nullptr) {
    DE_ASSIGN_OR_RETURN(read_store_, store::Store::Open(db_path_));
  }
  return read_store_.get();
}

v1::ValidateDagResponse Scheduler::ValidateDag(const std::string& yaml, const std::string& source) {
  v1::ValidateDagResponse resp;
  dag::LoadResult loaded = dag::LoadDag(yaml, source);
  if (loaded.ok()) CheckExternalRefs(*loaded.dag, source, vault_, &loaded.errors);
  resp.set_ok(loaded.ok());
  if (loaded.ok()) resp.set_dag_id(loaded.dag->id);
  FillDiagnostics(loaded.errors, resp.mutable_errors());
  return resp;
}

absl::StatusOr<v1::SubmitDagResponse> Scheduler::SubmitDag(const std::string& yaml,
                                                           const std::string& source) {
  v1::SubmitDagResponse resp;
  dag::LoadResult loaded = dag::LoadDag(yaml, source);
  if (loaded.ok()) CheckExternalRefs(*loaded.dag, source, vault_, &loaded.errors);
  if (!loaded.ok()) {
    FillDiagnostics(loaded.errors, resp.mutable_errors());
    return resp;   // nothing stored
  }
  const dag::DagSpec& spec = *loaded.dag;
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(auto existing, store_->GetDag(spec.id));
  resp.set_dag_id(spec.id);
  if (existing) {
    DE_ASSIGN_OR_RETURN(auto latest, store_->GetDagVersion(spec.id, existing->latest_version));
    if (latest && latest->yaml == yaml) {
      resp.set_version(existing->latest_version);
      resp.set_changed(false);
      return resp;
    }
  }
  store::DagVersionRow row;
  row.dag_id = spec.id;
  row.version = existing ? existing->latest_version + 1 : 1;
  row.yaml = yaml;
  row.source = source;
  row.created_at = ToMillis(clock_->Now());
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  DE_RETURN_IF_ERROR(store_->InsertDagVersion(row));
  DE_RETURN_IF_ERROR(tx.Commit());
  dag_cache_[{spec.id, row.version}] = std::make_shared<const dag::DagSpec>(spec);
  spdlog::info("dag={} stored version {} from {}", spec.id, row.version, source);
  if (absl::Status st = RefreshDagSchedule(spec.id); !st.ok()) {
    spdlog::error("dag={} schedule: {}", spec.id, st.ToString());
  }
  resp.set_version(row.version);
  resp.set_changed(true);
  return resp;
}

absl::StatusOr<v1::ListDagsResponse> Scheduler::ListDags() {
  absl::MutexLock lock(&mu_);
  v1::ListDagsResponse resp;
  DE_ASSIGN_OR_RETURN(auto dags, store_->ListDags());
  for (const auto& d : dags) {
    v1::DagSummary* s = resp.add_dags();
    s->set_dag_id(d.dag_id);
    s->set_version(d.latest_version);
    s->set_paused(d.paused);
    s->set_updated_at_ms(d.updated_at);
    auto spec = LoadDagVersion(d.dag_id, d.latest_version);
    if (spec.ok()) {
      s->set_schedule((*spec)->schedule);
      s->set_description((*spec)->description);
      s->set_task_count(static_cast<int>((*spec)->tasks.size()));
      s->set_timezone((*spec)->timezone);
    }
    FillNextRun(d.dag_id, s);
    DE_ASSIGN_OR_RETURN(auto last, store_->ListRuns(d.dag_id, "", 1));
    if (!last.empty()) {
      s->set_last_run_state(last[0].state);
      s->set_last_run_logical_date_ms(last[0].logical_date);
    }
  }
  return resp;
}

absl::StatusOr<v1::Dag> Scheduler::GetDag(const std::string& dag_id, int version) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(auto d, store_->GetDag(dag_id));
  if (!d) return absl::NotFoundError(absl::StrCat("no DAG named '", dag_id, "'"));
  int v = version > 0 ? version : d->latest_version;
  DE_ASSIGN_OR_RETURN(auto row, store_->GetDagVersion(dag_id, v));
  if (!row) return absl::NotFoundError(absl::StrCat("DAG ", dag_id, " has no version ", v));
  DE_ASSIGN_OR_RETURN(auto spec, LoadDagVersion(dag_id, v));
  v1::Dag out;
  v1::DagSummary* s = out.mutable_summary();
  s->set_dag_id(dag_id);
  s->set_version(v);
  s->set_paused(d->paused);
  s->set_schedule(spec->schedule);
  s->set_description(spec->description);
  s->set_task_count(static_cast<int>(spec->tasks.size()));
  s->set_timezone(spec->timezone);
  s->set_updated_at_ms(d->updated_at);
  FillNextRun(dag_id, s);
  out.set_yaml(row->yaml);
  out.set_source(row->source);
  for (const auto& t : spec->tasks) {
    v1::TaskSummary* ts = out.add_tasks();
    ts->set_task_id(t.id);
    ts->set_type(t.type);
    for (const auto& n : t.needs) ts->add_needs(n);
    ts->set_retries(t.retry.retries);
    if (t.timeout) ts->set_timeout_ms(absl::ToInt64Milliseconds(*t.timeout));
    ts->set_pool(t.pool);
    ts->set_trigger_rule(dag::Name(t.trigger_rule));
  }
  DE_ASSIGN_OR_RETURN(auto versions, store_->ListDagVersions(dag_id));
  for (int x : versions) out.add_versions(x);
  return out;
}

absl::StatusOr<v1::DagSummary> Scheduler::SetPaused(const std::string& dag_id, bool paused) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(auto d, store_->GetDag(dag_id));
  if (!d) return absl::NotFoundError(absl::StrCat("no DAG named '", dag_id, "'"));
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  DE_RETURN_IF_ERROR(store_->SetPaused(dag_id, paused, ToMillis(clock_->Now())));
  DE_RETURN_IF_ERROR(tx.Commit());
  spdlog::info("dag={} {}", dag_id, paused ? "paused" : "unpaused");
  DE_RETURN_IF_ERROR(RefreshDagSchedule(dag_id));
  v1::DagSummary s;
  s.set_dag_id(dag_id);
  s.set_version(d->latest_version);
  s.set_paused(paused);
  return s;
}

absl::StatusOr<v1::DeleteDagResponse> Scheduler::DeleteDag(const std::string& dag_id) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(auto d, store_->GetDag(dag_id));
  if (!d) return absl::NotFoundError(absl::StrCat("no DAG named '", dag_id, "'"));
  int active = 0;
  for (const auto& [id, r] : runs_) active += r->row.dag_id == dag_id;
  if (active > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "DAG ", dag_id, " has ", active, " unfinished runs; cancel them first (dectl runs cancel)"));
  }
  DE_ASSIGN_OR_RETURN(auto run_rows, store_->ListRuns(dag_id, "", -1));  // -1: every run
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  DE_ASSIGN_OR_RETURN(int runs, store_->DeleteDag(dag_id));
  DE_RETURN_IF_ERROR(tx.Commit());
  // The runs' logs go with them (DE_HOME/logs/RUN/...); a folder that cannot be removed is
  // logged, the DAG is deleted all the same.
  int log_dirs = 0;
  for (const auto& r : run_rows) {
    std::error_code ec;
    const std::string dir = absl::StrCat(options_.logs_dir, "/", r.run_id);
    if (std::filesystem::remove_all(dir, ec) > 0) ++log_dirs;
    if (ec) spdlog::warn("dag={} delete: cannot remove {}: {}", dag_id, dir, ec.message());
  }
  schedules_.erase(dag_id);
  for (auto it = backfills_.begin(); it != backfills_.end();) {
    it = it->second.row.dag_id == dag_id ? backfills_.erase(it) : std::next(it);
  }
  for (auto it = dag_cache_.begin(); it != dag_cache_.end();) {
    it = it->first.first == dag_id ? dag_cache_.erase(it) : std::next(it);
  }
  v1::DeleteDagResponse resp;
  resp.set_runs_deleted(runs);
  resp.set_log_dirs_deleted(log_dirs);
  return resp;
}

absl::StatusOr<v1::Run> Scheduler::Trigger(const std::string& dag_id,
                                           std::optional<absl::Time> date,
                                           const std::map<std::string, std::string>& conf) {
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(auto d, store_->GetDag(dag_id));
  if (!d) return absl::NotFoundError(absl::StrCat("no DAG named '", dag_id, "'"));
  if (d->paused) {
    return absl::FailedPreconditionError(
        absl::StrCat("DAG ", dag_id, " is paused; unpause it first (dectl unpause ", dag_id, ")"));
  }
  DE_ASSIGN_OR_RETURN(auto spec, LoadDagVersion(dag_id, d->latest_version));
  // Every key declared in `params`, every value of its type (common/dag/dag_params.h).
  DE_ASSIGN_OR_RETURN(const auto checked_conf, dag::CheckConf(*spec, conf));
  const absl::Time now = clock_->Now();
  const absl::Time logical = date.value_or(now);
  // A date on a schedule tick covers that tick's interval (a by-hand rerun of a scheduled
  // interval); any other date covers the empty interval [date, date].
  auto sit = schedules_.find(dag_id);
  const dag::Schedule* schedule = sit != schedules_.end() && sit->second.version == d->latest_version
                                      ? sit->second.schedule.get()
                                      : nullptr;
  const dag::DataInterval iv = ManualRunInterval(schedule, logical);
  const absl::Time start = iv.start, end = iv.end;
  store::Transaction tx(store_->db());
  DE_RETURN_IF_ERROR(tx.status());
  auto run =
      CreateRun(dag_id, d->latest_version, "manual", logical, start, end, checked_conf, "");
  const std::string run_id = run.ok() ? (*run)->row.run_id : "";
  DE_RETURN_IF_ERROR(FinishStep(tx, run.status(), "trigger"));
  spdlog::info("dag={} run={} triggered by hand", dag_id, run_id);
  Dispatch();
  return RunToProto(run_id);
}

absl::StatusOr<v1::Run> Scheduler::RunToProto(const std::string& run_id) {
  DE_ASSIGN_OR_RETURN(auto row, store_->GetRun(run_id));
  if (!row) return absl::NotFoundError(absl::StrCat("no run '", run_id, "'"));
  DE_ASSIGN_OR_RETURN(auto tis, store_->ListTaskInstances(run_id));
  DE_ASSIGN_OR_RETURN(auto attempts, store_->ListAttempts(run_id));
  return RunProtoFromRows(*row, tis, attempts);
}

v1::Run Scheduler::RunProtoFromRows(const store::RunRow& row,
                                    const std::vector<store::TaskInstanceRow>& tis,
                                    const std::vector<store::AttemptRow>& attempts) {
  v1::Run out;
  FillRunHeader(row, &out);
  auto spec = LoadDagVersion(row.dag_id, row.dag_version);
  if (row.state == Name(RunState::kWaiting) && spec.ok()) {
    std::vector<std::string> missing;
    auto ok = WaitsSatisfied(row, **spec, &missing);
    if (ok.ok()) {
      for (auto& m : missing) out.add_waiting_on(m);
    }
  }
  for (const auto& ti : tis) {
    v1::TaskInstance* t = out.add_tasks();
    t->set_task_id(ti.task_id);
    t->set_state(ti.state);
    t->set_try_number(ti.try_number);
    t->set_max_tries(ti.max_tries);
    t->set_queued_at_ms(ti.queued_at);
    t->set_started_at_ms(ti.started_at);
    t->set_ended_at_ms(ti.ended_at);
    t->set_worker(ti.worker);
    t->set_error(ti.error);
    t->set_next_retry_at_ms(ti.next_retry_at);
    t->set_deadline_ms(ti.deadline_at);
    t->set_deadline_missed_at_ms(ti.deadline_missed_at);
    for (const auto& [k, v] : ti.counters) (*t->mutable_counters())[k] = v;
    if (spec.ok()) {
      if (const dag::TaskSpec* ts = (*spec)->FindTask(ti.task_id)) {
        t->set_type(ts->type);
        for (const auto& n : ts->needs) t->add_needs(n);
        if (ts->for_each) t->set_map_count(static_cast<int>(ti.counters.count("instances")
                                                                 ? ti.counters.at("instances")
                                                                 : 0));
      }
    }
    if (ti.map_index >= 0) {
      auto parent = ParseMappedInstanceId(ti.task_id);
      if (parent) t->set_map_task(parent->first);
      t->set_map_index(ti.map_index);
      t->set_map_item(ti.map_item);
      if (spec.ok() && parent) {
        if (const dag::TaskSpec* ts = (*spec)->FindTask(parent->first)) t->set_type(ts->type);
      }
    }
  }
  for (const auto& a : attempts) {
    v1::Attempt* p = out.add_attempts();
    p->set_attempt_id(a.attempt_id);
    p->set_task_id(a.task_id);
    p->set_try_number(a.try_number);
    p->set_worker(a.worker);
    p->set_state(a.state);
    p->set_started_at_ms(a.started_at);
    p->set_ended_at_ms(a.ended_at);
    p->set_exit_code(a.exit_code.value_or(0));
    p->set_error(a.error);
  }
  return out;
}

absl::StatusOr<v1::ListRunsResponse> Scheduler::ListRuns(const std::string& dag_id,
                                                         const std::string& state, int limit) {
  v1::ListRunsResponse resp;
  if (limit > kMaxListRows) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit ", limit, " is more than ", kMaxListRows, " runs (filter by DAG or state)"));
  }
  absl::MutexLock lock(&read_mu_);
  DE_ASSIGN_OR_RETURN(store::Store * reader, ReadStore());
  DE_ASSIGN_OR_RETURN(auto rows, reader->ListRuns(dag_id, state, limit > 0 ? limit : 50));
  for (const auto& r : rows) FillRunHeader(r, resp.add_runs());
  return resp;
}

absl::StatusOr<v1::Run> Scheduler::GetRun(const std::string& run_id) {
  // The rows come from one snapshot of the read connection, without the scheduling lock; only the
  // cheap in-memory part (DAG spec, what a waiting run misses) takes it.
  std::optional<store::RunRow> row;
  std::vector<store::TaskInstanceRow> tis;
  std::vector<store::AttemptRow> attempts;
  {
    absl::MutexLock lock(&read_mu_);
    DE_ASSIGN_OR_RETURN(store::Store * reader, ReadStore());
    store::ReadTransaction snapshot(reader->db());
    DE_ASSIGN_OR_RETURN(row, reader->GetRun(run_id));
    if (!row) return absl::NotFoundError(absl::StrCat("no run '", run_id, "'"));
    DE_ASSIGN_OR_RETURN(tis, reader->ListTaskInstances(run_id));
    DE_ASSIGN_OR_RETURN(attempts, reader->ListAttempts(run_id));
  }
  absl::MutexLock lock(&mu_);
  return RunProtoFromRows(*row, tis, attempts);
}

absl::StatusOr<v1::Run> Scheduler::CancelRun(const std::string& run_id) {
  absl::MutexLock lock(&mu_);
  ActiveRun* run = FindRun(run_id);
  if (run == nullptr) {
    DE_ASSIGN_OR_RETURN(auto row, store_->GetRun(run_id));
    if (!row) return absl::NotFoundError(absl::StrCat("no run '", run_id, "'"));
    return absl::FailedPreconditionError(
        absl::StrCat("run ", run_id, " has already finished (", row->state, ")"));
  }
  store::Transaction tx(store_->db());
  absl::Status st = tx.status();
  if (st.ok()) st = CancelActiveRun(*run, "cancelled by operator");
  DE_RETURN_IF_ERROR(FinishStep(tx, st, "cancel"));
  Dispatch();
  return RunToProto(run_id);
}

namespace {

// NotFound for a task the run does not have ("did you mean", and the run's tasks), or for one it
// has that has not started yet.
absl::Status UnknownTaskError(const std::string& run_id, const std::string& task_id,
                              const std::vector<store::TaskInstanceRow>& tis) {
  std::vector<std::string> ids;
  for (const auto& ti : tis) {
    if (ti.task_id == task_id) {
      return absl::NotFoundError(
          absl::StrCat("task ", task_id, " of run ", run_id, " has not started any attempt"));
    }
    ids.push_back(ti.task_id);
  }
  constexpr size_t kListed = 10;
  std::string listed = absl::StrJoin(ids.begin(), ids.begin() + std::min(ids.size(), kListed), ", ");
  if (ids.size() > kListed) {
    absl::StrAppend(&listed, ", ... (", ids.size(), " in all; dectl runs show ", run_id, ")");
  }
  return absl::NotFoundError(absl::StrCat("run ", run_id, " has no task '", task_id, "'",
                                          dag::DidYouMean(task_id, ids), "; its tasks: ",
                                          ids.empty() ? "none" : listed));
}

}  // namespace

absl::StatusOr<v1::GetTaskLogResponse> Scheduler::GetTaskLog(const v1::GetTaskLogRequest& req) {
  if (req.offset() < 0) return absl::InvalidArgumentError("log offset must not be negative");
  std::string path;
  bool attempt_finished = true;
  int try_number = 0;
  {
    absl::MutexLock lock(&read_mu_);
    DE_ASSIGN_OR_RETURN(store::Store * reader, ReadStore());
    store::ReadTransaction snapshot(reader->db());
    DE_ASSIGN_OR_RETURN(auto run, reader->GetRun(req.run_id()));
    if (!run) return absl::NotFoundError(absl::StrCat("no run '", req.run_id(), "'"));
    DE_ASSIGN_OR_RETURN(auto attempts, reader->ListAttempts(req.run_id()));
    const store::AttemptRow* chosen = nullptr;
    bool task_known = false;
    for (const auto& a : attempts) {
      if (a.task_id != req.task_id()) continue;
      task_known = true;
      if (req.try_number() == 0 || a.try_number == req.try_number()) chosen = &a;
    }
    if (chosen == nullptr) {
      if (!task_known) {
        DE_ASSIGN_OR_RETURN(auto tis, reader->ListTaskInstances(req.run_id()));
        return UnknownTaskError(req.run_id(), req.task_id(), tis);
      }
      return absl::NotFoundError(
          absl::StrCat("task ", req.task_id(), " has no attempt ", req.try_number()));
    }
    try_number = chosen->try_number;
    attempt_finished = chosen->state != "running";
    path = LogPath(req.run_id(), req.task_id(), try_number);
  }
  v1::GetTaskLogResponse resp;
  resp.set_try_number(try_number);
  const int64_t max =
      std::min<int64_t>(req.max_bytes() > 0 ? req.max_bytes() : (1 << 20), kMaxLogPageBytes);
  std::string data;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  int64_t size = 0;
  if (fd >= 0) {
    size = lseek(fd, 0, SEEK_END);
    if (req.offset() < size) {
      data.resize(static_cast<size_t>(std::min<int64_t>(max, size - req.offset())));
      ssize_t n = pread(fd, data.data(), data.size(), req.offset());
      data.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
    close(fd);
  }
  resp.set_data(data);
  resp.set_next_offset(req.offset() + static_cast<int64_t>(data.size()));
  resp.set_finished(attempt_finished && resp.next_offset() >= size);
  return resp;
}

absl::StatusOr<v1::ListWorkersResponse> Scheduler::ListWorkers() {
  absl::MutexLock lock(&mu_);
  v1::ListWorkersResponse resp;
  DE_ASSIGN_OR_RETURN(auto rows, store_->ListWorkers());
  for (const auto& r : rows) {
    v1::Worker* w = resp.add_workers();
    w->set_name(r.name);
    w->set_slots(r.slots);
    for (const auto& p : r.pools) w->add_pools(p);
    w->set_version(r.version);
    w->set_state(r.state);
    w->set_last_seen_ms(r.last_seen);
    auto it = workers_.find(r.name);
    if (it != workers_.end()) {
      w->set_busy(static_cast<int>(it->second.attempts.size()));
      w->set_state(it->second.channel ? "connected" : "disconnected");
      w->set_last_seen_ms(ToMillis(it->second.last_seen));
      w->set_connected_at_ms(ToMillis(it->second.connected_at));
    } else {
      w->set_state("disconnected");
    }
  }
  return resp;
}

}  // namespace de::sched
