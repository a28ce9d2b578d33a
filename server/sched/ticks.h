// Schedule ticks over a range and run ids: shared by cron runs, waits and backfills. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/dag/schedule.h"

namespace de::sched {

// Ticks t of `schedule` with from <= t <= to (inclusive_end) or from <= t < to, in ms; at most
// `cap` (then *truncated).
std::vector<int64_t> TicksIn(const dag::Schedule& schedule, absl::Time from, absl::Time to,
                             bool inclusive_end, size_t cap, bool* truncated);
// DAG__TYPE__20240101T000000Z
std::string NewRunId(const std::string& dag_id, const std::string& type, absl::Time logical);

}  // namespace de::sched
