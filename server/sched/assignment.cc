#include "server/sched/assignment.h"

#include "absl/strings/str_cat.h"
#include "common/dag/dag_params.h"
#include "common/status.h"
#include "yaml-cpp/yaml.h"

namespace de::sched {

namespace {

// The mapper step of a {glob}/{partitions} for_each task: a for_each_items attempt on a worker
// that lists the items (the scheduler does not see the data root).
absl::StatusOr<v1::Assignment> MapperAssignment(const dag::ForEachSpec& fe,
                                                const dag::TemplateContext& ctx,
                                                v1::Assignment a) {
  YAML::Node with;
  if (fe.kind == dag::ForEachSpec::Kind::kGlob) {
    with["glob"] = fe.glob;
  } else {
    with["partitions"]["path"] = fe.path;
    with["partitions"]["from"] = fe.from;
    with["partitions"]["to"] = fe.to;
  }
  DE_ASSIGN_OR_RETURN(std::string rendered, dag::RenderYaml(with, ctx));
  a.set_type(dag::kForEachItemsType);
  a.set_params_yaml(rendered);
  return a;
}

}  // namespace

absl::StatusOr<v1::Assignment> BuildAssignment(const dag::DagSpec& spec, const dag::TaskSpec& task,
                                               const AttemptInfo& info,
                                               const ExternalRefResolver& resolve) {
  std::map<std::string, std::string> params = spec.params;
  for (const auto& [k, v] : info.conf) params[k] = v;
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(spec.timezone, &tz)) tz = absl::UTCTimeZone();
  dag::TemplateContext ctx =
      dag::MakeTemplateContext(spec.id, info.run_id, task.id, info.try_number, info.logical_date,
                               info.interval_start, info.interval_end, tz, params);
  if (info.map_index >= 0) {   // an instance of a for_each task
    ctx.vars["item"] = info.map_item;
    ctx.vars["map_index"] = absl::StrCat(info.map_index);
  }
  if (!task.external_refs.empty()) DE_RETURN_IF_ERROR(resolve(task.external_refs, &ctx));
  v1::Assignment a;
  a.set_attempt_id(info.attempt_id);
  a.set_run_id(info.run_id);
  a.set_dag_id(spec.id);
  a.set_task_id(info.task_id.empty() ? task.id : info.task_id);
  a.set_try_number(info.try_number);
  a.set_type(task.type);
  if (info.mapper_step) return MapperAssignment(*task.for_each, ctx, std::move(a));
  if (task.with && !task.with.IsNull()) {
    DE_ASSIGN_OR_RETURN(std::string rendered, dag::RenderTaskYaml(task.type, task.with, ctx));
    a.set_params_yaml(rendered);
  }
  if (task.timeout) a.set_timeout_ms(absl::ToInt64Milliseconds(*task.timeout));
  auto& env = *a.mutable_env();
  env["DE_DAG"] = spec.id;
  env["DE_RUN_ID"] = info.run_id;
  env["DE_TASK"] = task.id;
  env["DE_TRY_NUMBER"] = std::to_string(info.try_number);
  if (info.map_index >= 0) {
    env["DE_MAP_INDEX"] = ctx.vars["map_index"];
    env["DE_ITEM"] = info.map_item;
  }
  env["DE_DS"] = ctx.vars["ds"];
  env["DE_LOGICAL_DATE"] = ctx.vars["logical_date"];
  for (const auto& [name, value] : params) env[dag::ParamEnvName(name)] = value;
  // Only this attempt's own secrets travel, inside its assignment; the worker masks them.
  for (const auto& [name, value] : ctx.secrets) a.add_mask(value);
  return a;
}

dag::DataInterval ManualRunInterval(const dag::Schedule* schedule, absl::Time logical) {
  if (schedule != nullptr && schedule->IsTick(logical)) return schedule->IntervalStartingAt(logical);
  return {logical, logical};
}

}  // namespace de::sched
