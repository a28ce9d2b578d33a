// Loads and validates DAG YAML. Pure functions; thread-safe. yaml-cpp exceptions never escape.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/dag/dag.h"

namespace de::dag {

// One validation problem, with where it is.
struct Diagnostic {
  std::string file;
  int line = 0;     // 1-based; 0 = whole file
  int column = 0;   // 1-based
  std::string message;
  // "file:line:column: message" (or "file: message" without a position).
  std::string ToString() const;
};

struct LoadResult {
  std::optional<DagSpec> dag;         // set iff errors is empty
  std::vector<Diagnostic> errors;     // every problem found, in file order where possible
  std::vector<Diagnostic> warnings;   // legal but probably surprising (never make ok() false)
  bool ok() const { return errors.empty(); }
};

// Parses `yaml_text` (named `file_name` in diagnostics) and validates everything that can be
// checked without other DAGs: keys (unknown key -> "did you mean"), types, ids, duplicate task
// ids, unknown `needs`, cycles (the path, "a -> b -> a"), unknown task type, per-type required
// `with` keys, cron expression and timezone, durations, and every template in `with`, `alerts`
// and `params` against the known variables (unknown variable or unknown params.NAME is an error).
// Warnings: a schedule using cron's day-of-month/day-of-week "either" rule (with the next days it
// yields from max(start_date, now), so that one warning text depends on the clock).
LoadResult LoadDag(std::string_view yaml_text, std::string_view file_name);

struct AlertsLoadResult {
  std::vector<AlertSpec> alerts;      // empty when errors is not
  std::vector<Diagnostic> errors;
  bool ok() const { return errors.empty(); }
};

// Parses a scheduler-wide alerts file (de-scheduler --alerts-file): the same entries as a DAG's
// `alerts:` list, as a top-level YAML list (a mapping with an `alerts:` key is accepted too).
// Command templates may use the standard variables (no params).
AlertsLoadResult LoadAlertsFile(std::string_view yaml_text, std::string_view file_name);

// Parses a duration like "30s", "5m", "1h", "2d", "1h30m", "500ms", or "-7d".
absl::StatusOr<absl::Duration> ParseDuration(std::string_view text);

}  // namespace de::dag
