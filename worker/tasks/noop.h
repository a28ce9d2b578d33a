// `noop`: does nothing and succeeds. For tests and scheduling benchmarks.
#pragma once
#include "worker/tasks/task.h"
namespace de::tasks {
absl::StatusOr<TaskOutcome> RunNoop(const YAML::Node& with, const TaskContext& ctx);
}  // namespace de::tasks
