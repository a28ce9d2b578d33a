// What one attempt of a task is handed: its `with:` block with every template rendered, the
// environment its process gets, and the secret values the worker masks. The scheduler's dispatch
// builds every assignment with BuildAssignment; `dectl dag render` shows the very same output, so
// there is one renderer. Also the data interval of a manual run (Trigger and dag render).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/dag/dag.h"
#include "common/dag/schedule.h"
#include "common/dag/template.h"
#include "de/v1/worker.pb.h"

namespace de::sched {

// The run and attempt an assignment is for.
struct AttemptInfo {
  std::string run_id;
  absl::Time logical_date;
  absl::Time interval_start;
  absl::Time interval_end;
  std::map<std::string, std::string> conf;   // the run's conf (checked params)
  int try_number = 1;
  int64_t attempt_id = 0;
  std::string task_id;        // a for_each instance's id TASK[i]; empty = the task's own id
  int map_index = -1;         // a for_each instance: its index and item ({{ map_index }}, {{ item }})
  std::string map_item;
  bool mapper_step = false;   // the step listing a {glob}/{partitions} for_each task's items
};

// Fills ctx->variables / ctx->secrets with the values of `refs` ("var.X", "secret.Y").
using ExternalRefResolver =
    std::function<absl::Status(const std::vector<std::string>& refs, dag::TemplateContext* ctx)>;

// The assignment of `task` (a task of `spec`) for `info`: `with:` rendered (a shell command
// quoted for the shell), DE_* and DE_PARAM_* variables, timeout, and the secrets to mask.
// Errors: a template that does not render, or `resolve` failing.
absl::StatusOr<v1::Assignment> BuildAssignment(const dag::DagSpec& spec, const dag::TaskSpec& task,
                                               const AttemptInfo& info,
                                               const ExternalRefResolver& resolve);

// The data interval of a manual run with logical date `logical`: when `logical` is a tick of
// `schedule` (non-null), that tick's interval (a by-hand rerun of a scheduled interval);
// otherwise the empty interval [logical, logical].
dag::DataInterval ManualRunInterval(const dag::Schedule* schedule, absl::Time logical);

}  // namespace de::sched
