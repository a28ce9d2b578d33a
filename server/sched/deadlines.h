// Deadline arithmetic: when a run (DAG `sla:`) or a task (`deadline:`) must have finished.
// Pure functions: thread-safe.
#pragma once

#include <cstdint>

#include "common/dag/dag.h"
#include "server/store/store.h"

namespace de::sched {

// The deadline in ms for `run` under `d`, or 0 when its anchor is not known yet (after:
// run_start for a run that has not started).
int64_t DeadlineAt(const dag::Deadline& d, const store::RunRow& run);

}  // namespace de::sched
