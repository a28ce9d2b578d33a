// The logical date and data interval of the one run `dectl dag test` makes and `dectl dag render`
// shows, from --date and the DAG's schedule. Pure functions; thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/dag/dag.h"
#include "common/dag/schedule.h"

namespace de::cli {

struct LocalRunDate {
  absl::Time logical;
  dag::DataInterval interval;   // as the scheduler gives a manual run with that logical date
  std::string note;             // a line worth printing (why this date, an empty interval), or ""
};

// --date `text` for `spec` at `now`:
//  - empty: the DAG's latest complete interval at `now` (kept within start_date..end_date), or
//    for a manual-only DAG (or one with no complete interval yet) today's midnight in its zone;
//  - a date (YYYY-MM-DD): that day in the DAG's time zone: the first tick of its schedule that
//    day, or midnight when none falls on it;
//  - a timestamp (2024-01-31T03:00:00Z, see ParseDateMs): exactly that instant.
// The interval is ManualRunInterval's (server/sched/assignment.h): a tick's interval, else empty.
absl::StatusOr<LocalRunDate> PickLocalRunDate(const dag::DagSpec& spec, const std::string& text,
                                              absl::Time now);

}  // namespace de::cli
