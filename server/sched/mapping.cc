// Mapped tasks (`for_each:`): a mapped task becomes one task instance per item when it is ready.
//
// - A list literal or a param is expanded by the scheduler at once. A glob or a dataset's
//   partitions live on the workers' data root, which the scheduler does not see: the mapped task
//   is first dispatched as a "mapper" attempt (type for_each_items, worker/tasks/) that lists the
//   items on a worker and returns them in its result; the expansion follows from that result.
// - Expansion inserts one row per item, task_id "TASK[i]", in the same transaction as the
//   mapped task's own move to running, so a scheduler killed at any point has either expanded
//   fully or not at all; the primary key (run_id, task_id) refuses a second expansion (a
//   resent mapper result then rolls back instead of doubling the instances).
// - The mapped task's own row sums up its instances: running while any is unfinished, then
//   success when all succeeded, failed otherwise; its downstream tasks see only that row.
//   No items: skipped (as Airflow does), and downstream tasks go on as after any skipped task.
// - max_parallel: at most that many instances queued, running or waiting for a retry at once;
//   the rest stay scheduled and are admitted as instances finish. Each instance has its own
//   tries (the task's retries apply to each).
// - Clearing the mapped task clears its instances (those named, else all) and reuses the items
//   of the first expansion; a mapped task that had no items is evaluated again.
#include <climits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/dag/dag_params.h"
#include "common/limits.h"
#include "common/status.h"
#include "server/sched/scheduler.h"
#include "spdlog/spdlog.h"
#include "yaml-cpp/yaml.h"

namespace de::sched {
namespace {

bool Occupies(TiState s) {
  return s == TiState::kQueued || s == TiState::kRunning || s == TiState::kUpForRetry;
}

bool NeedsMapper(const dag::ForEachSpec& fe) {
  return fe.kind == dag::ForEachSpec::Kind::kGlob ||
         fe.kind == dag::ForEachSpec::Kind::kPartitions;
}

// The items of a list literal or a param (the run's conf over the DAG's default).
std::vector<std::string> LiteralItems(const dag::ForEachSpec& fe, const dag::DagSpec& dag,
                                      const std::map<std::string, std::string>& conf) {
  if (fe.kind == dag::ForEachSpec::Kind::kList) return fe.items;
  auto it = conf.find(fe.param);
  if (it != conf.end()) return dag::SplitListParam(it->second);
  auto d = dag.params.find(fe.param);
  return d == dag.params.end() ? std::vector<std::string>{} : dag::SplitListParam(d->second);
}

}  // namespace

std::string MappedInstanceId(const std::string& task_id, int map_index) {
  return absl::StrCat(task_id, "[", map_index, "]");
}

std::optional<std::pair<std::string, int>> ParseMappedInstanceId(std::string_view id) {
  if (id.size() < 4 || id.back() != ']') return std::nullopt;
  const size_t open = id.rfind('[');
  if (open == std::string_view::npos || open == 0) return std::nullopt;
  int index = 0;
  std::string_view digits = id.substr(open + 1, id.size() - open - 2);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), &index)) {
    return std::nullopt;
  }
  return std::make_pair(std::string(id.substr(0, open)), index);
}

void Scheduler::NoteInstanceTransition(ActiveRun& run, int parent, TiState from, TiState to) {
  TaskState& p = run.tasks[parent];
  p.map_unfinished += static_cast<int>(IsFinished(from)) - static_cast<int>(IsFinished(to));
  p.map_active += static_cast<int>(Occupies(to)) - static_cast<int>(Occupies(from));
}

absl::Status Scheduler::StartMapped(ActiveRun& run, int p) {
  const dag::ForEachSpec& fe = *run.tasks[p].spec->for_each;
  DE_RETURN_IF_ERROR(TransitionTask(run, p, TiState::kQueued));
  if (!run.tasks[p].instances.empty()) {   // cleared: the items of the first expansion
    run.tasks[p].row.started_at = common::ToMillis(clock_->Now());
    DE_RETURN_IF_ERROR(TransitionTask(run, p, TiState::kRunning));
    run.tasks[p].map_cursor = 0;
    DE_RETURN_IF_ERROR(AdmitInstances(run, p));
    return FinishMappedIfDone(run, p);
  }
  if (NeedsMapper(fe)) {
    Enqueue(run, p);   // dispatched as the mapper step (FillMapperAssignment)
    return absl::OkStatus();
  }
  run.tasks[p].row.started_at = common::ToMillis(clock_->Now());   // its instances' span
  DE_RETURN_IF_ERROR(TransitionTask(run, p, TiState::kRunning));
  return ExpandMapped(run, p, LiteralItems(fe, *run.dag, run.row.conf));
}

absl::Status Scheduler::ExpandMapped(ActiveRun& run, int p, std::vector<std::string> items) {
  const std::string task_id = run.tasks[p].spec->id;
  if (items.size() > static_cast<size_t>(kMaxMapItems)) {
    run.tasks[p].row.error = absl::StrCat("for_each has ", items.size(),
                                          " items; a task maps over at most ", kMaxMapItems);
    return OnTaskFailedFinal(run, p);
  }
  if (items.empty()) {
    run.tasks[p].row.error = "for_each: no items, skipped";
    DE_RETURN_IF_ERROR(TransitionTask(run, p, TiState::kSkipped));
    return OnTaskSucceeded(run, p);
  }
  run.tasks.reserve(run.tasks.size() + items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    store::TaskInstanceRow row;
    row.run_id = run.row.run_id;
    row.task_id = MappedInstanceId(task_id, static_cast<int>(i));
    row.state = Name(TiState::kScheduled);
    row.max_tries = run.tasks[p].spec->retry.retries + 1;
    row.map_index = static_cast<int>(i);
    row.map_item = std::move(items[i]);
    // A second expansion of the same run and task fails here (primary key): nothing doubles.
    DE_RETURN_IF_ERROR(store_->InsertTaskInstance(row));
    AddInstance(run, p, std::move(row), TiState::kScheduled);
    ++run.unfinished;
  }
  TaskState& parent = run.tasks[p];
  parent.row.counters = {{"instances", static_cast<int64_t>(parent.instances.size())}};
  DE_RETURN_IF_ERROR(store_->UpdateTaskInstance(parent.row));
  spdlog::info("dag={} run={} task={} mapped over {} items", run.row.dag_id, run.row.run_id,
               task_id, parent.instances.size());
  return AdmitInstances(run, p);
}

void Scheduler::AddInstance(ActiveRun& run, int p, store::TaskInstanceRow row, TiState state) {
  TaskState ts;
  ts.spec = run.tasks[p].spec;
  ts.state = state;
  ts.map_parent = p;
  const int index = static_cast<int>(run.tasks.size());
  run.index[row.task_id] = index;
  ts.row = std::move(row);
  run.tasks.push_back(std::move(ts));
  TaskState& parent = run.tasks[p];
  parent.instances.push_back(index);
  parent.map_unfinished += !IsFinished(state);
  parent.map_active += Occupies(state);
  // Callers that load a whole run count run.unfinished themselves (LoadRun).
}

absl::Status Scheduler::AdmitInstances(ActiveRun& run, int p) {
  if (run.state != RunState::kRunning || run.tasks[p].state != TiState::kRunning) {
    return absl::OkStatus();
  }
  const int max_parallel = run.tasks[p].spec->max_parallel;
  const int limit = max_parallel > 0 ? max_parallel : INT_MAX;
  while (run.tasks[p].map_active < limit &&
         run.tasks[p].map_cursor < run.tasks[p].instances.size()) {
    const int c = run.tasks[p].instances[run.tasks[p].map_cursor++];
    if (run.tasks[c].state != TiState::kScheduled) continue;
    DE_RETURN_IF_ERROR(TransitionTask(run, c, TiState::kQueued));
    Enqueue(run, c);
  }
  return absl::OkStatus();
}

absl::Status Scheduler::OnInstanceFinished(ActiveRun& run, int c) {
  const int p = run.tasks[c].map_parent;
  DE_RETURN_IF_ERROR(AdmitInstances(run, p));
  return FinishMappedIfDone(run, p);
}

absl::Status Scheduler::FinishMappedIfDone(ActiveRun& run, int p) {
  if (run.tasks[p].state != TiState::kRunning || run.tasks[p].map_unfinished > 0) {
    return MaybeFinishRun(run);
  }
  int64_t ok = 0;
  for (int c : run.tasks[p].instances) ok += run.tasks[c].state == TiState::kSuccess;
  TaskState& parent = run.tasks[p];
  const int64_t n = static_cast<int64_t>(parent.instances.size());
  parent.row.counters = {{"instances", n}, {"success", ok}, {"failed", n - ok}};
  if (ok == n) {
    parent.row.error.clear();
    DE_RETURN_IF_ERROR(TransitionTask(run, p, TiState::kSuccess));
    return OnTaskSucceeded(run, p);
  }
  parent.row.error = absl::StrCat(n - ok, " of ", n, " instances did not succeed");
  return OnTaskFailedFinal(run, p);
}

absl::Status Scheduler::LoadInstance(ActiveRun& run, store::TaskInstanceRow row) {
  auto parent = ParseMappedInstanceId(row.task_id);
  auto it = parent ? run.index.find(parent->first) : run.index.end();
  if (it == run.index.end() || !run.tasks[it->second].spec->for_each) {
    return absl::DataLossError(absl::StrCat("task instance ", row.task_id, " of run ",
                                            run.row.run_id, " has no for_each task"));
  }
  std::optional<TiState> st = ParseTiState(row.state);
  if (!st) {
    return absl::DataLossError(absl::StrCat("task ", row.task_id, " of run ", run.row.run_id,
                                            " has unknown state '", row.state, "'"));
  }
  AddInstance(run, it->second, std::move(row), *st);
  return absl::OkStatus();
}

bool Scheduler::IsMapperStep(const TaskState& ts) const {
  return ts.spec->for_each && ts.map_parent < 0 && NeedsMapper(*ts.spec->for_each);
}

void Scheduler::TakeMapperItems(const v1::TaskResult& r) {
  auto fit = inflight_.find(r.attempt_id());
  if (fit == inflight_.end() || !r.success()) return;
  ActiveRun* run = FindRun(fit->second.run_id);
  if (run == nullptr || !IsMapperStep(run->tasks[fit->second.task])) return;
  TaskState& ts = run->tasks[fit->second.task];
  ts.mapper_items.reset();
  try {
    YAML::Node root = YAML::Load(r.summary());
    YAML::Node items = root["summary"] ? root["summary"]["items"] : root["items"];
    if (!items || !items.IsSequence()) return;
    std::vector<std::string> out;
    out.reserve(items.size());
    for (const auto& i : items) out.push_back(i.as<std::string>());
    ts.mapper_items = std::move(out);
  } catch (const std::exception& e) {
    spdlog::warn("run={} task={}: the mapper's item list does not parse: {}",
                 run->row.run_id, ts.spec->id, e.what());
  }
}

absl::Status Scheduler::EndMapperStep(ActiveRun& run, int p) {
  std::optional<std::vector<std::string>> items = std::move(run.tasks[p].mapper_items);
  run.tasks[p].mapper_items.reset();
  if (!items) {
    run.tasks[p].row.error = "for_each: the worker's mapper step returned no item list";
    return OnTaskFailedFinal(run, p);
  }
  return ExpandMapped(run, p, std::move(*items));
}

absl::Status Scheduler::ClearInstances(ActiveRun& run, int p,
                                       const std::set<std::string>& task_ids) {
  TaskState& parent = run.tasks[p];
  for (int c : parent.instances) {
    if (task_ids.count(run.tasks[c].row.task_id)) return absl::OkStatus();   // only those named
  }
  const std::vector<int> instances = parent.instances;
  for (int c : instances) {
    TaskState& ts = run.tasks[c];
    if (ts.state == TiState::kScheduled || ts.state == TiState::kQueued) continue;
    retry_due_.erase({run.row.run_id, c});
    ts.row.max_tries = (ts.row.try_number - ts.row.lost_count) + ts.spec->retry.retries + 1;
    ts.row.next_retry_at = 0;
    ts.row.error.clear();
    ts.row.counters.clear();
    ts.row.ended_at = 0;
    DE_RETURN_IF_ERROR(TransitionTask(run, c, TiState::kScheduled));
  }
  return absl::OkStatus();
}

}  // namespace de::sched
