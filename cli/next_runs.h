// The next data intervals of a DAG's schedule, as dectl prints them (dag show, dag validate
// --next): logical date and creation time in the DAG's zone and in UTC, so a DST edge is seen.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "common/dag/dag.h"

namespace de::cli {

// Prints up to `n` intervals of `spec`'s schedule as a table: those not yet created at `now`
// (the interval containing `now` first), or from `first` when given (a logical date the
// scheduler named), never before start_date nor after end_date. Manual-only DAGs print a line
// saying so.
void PrintNextIntervals(const dag::DagSpec& spec, absl::Time now, std::optional<absl::Time> first,
                        int n, std::ostream& out);

// "2024-03-31 03:00 +02:00" in `tz`.
std::string FormatLocal(absl::Time t, absl::TimeZone tz);

}  // namespace de::cli
