#include "worker/tasks/noop.h"
namespace de::tasks {
absl::StatusOr<TaskOutcome> RunNoop(const YAML::Node&, const TaskContext&) {
  TaskOutcome out;
  out.summary_json = "{}";
  return out;
}
}  // namespace de::tasks
