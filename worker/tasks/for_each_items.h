// `for_each_items`: the mapper step of a `for_each:` task whose items only a worker can see
// (server/sched/mapping.cc dispatches it): lists the files of a glob, or the partition folders
// of a dataset inside [from, to), under the data root, and returns them as the summary
// {"items": [...]} (paths relative to the data root, sorted). Not a type users write in a DAG.
//   with: { glob: "raw/*.csv" }   or   with: { partitions: { path: lake/t, from: D1, to: D2 } }
// A glob that matches nothing gives no items (the mapped task is skipped). More than
// kMaxMapItems (common/limits.h) items is an error that retrying cannot fix.
#pragma once
#include "common/dag/dag.h"
#include "worker/tasks/task.h"
namespace de::tasks {
using dag::kForEachItemsType;
absl::StatusOr<TaskOutcome> RunForEachItems(const YAML::Node& with, const TaskContext& ctx);
}  // namespace de::tasks
