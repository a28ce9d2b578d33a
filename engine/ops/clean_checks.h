// `clean` data-quality checks (as dbt / Great Expectations users know them), evaluated over the
// rows the task writes (after filter and dedupe):
//   not_null        rows where the column is null (one check per listed column)
//   unique          rows whose key (one or several columns) repeats an earlier row's key; rows with
//                   a null key column are ignored (as dbt); memory: one 128-bit hash per distinct
//                   key (see clean_keys.h)
//   accepted_values rows whose non-null value (as text) is not in the list
//   range           rows whose non-null value is below min or above max (inclusive bounds; either
//                   may be left out), compared in the column's type
//   regex           rows whose non-null value (as text) does not contain a match of the RE2
//                   pattern (anchor with ^...$ for a full match)
//   row_count       fails (1 failing "row") when the number of rows written is outside [min, max]
// Each has severity error (the task fails and writes nothing) or warn (reported only).
//
// Thread safety: a CheckRunner is created once; Update() may run on many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/columnar/selection.h"

namespace de::engine {

enum class Severity { kError, kWarn };

struct CheckSpec {
  enum class Kind { kNotNull, kUnique, kAcceptedValues, kRange, kRegex, kRowCount };
  Kind kind = Kind::kNotNull;
  std::vector<std::string> columns;          // one (not_null, ...) or several (unique)
  std::vector<std::string> values;           // accepted_values
  std::optional<std::string> min, max;       // range, row_count
  std::string pattern;                       // regex
  Severity severity = Severity::kError;
  // "not_null(origin)", "unique(date, origin)", "range(delay)", "row_count" ...
  std::string Name() const;
};

struct CheckResult {
  std::string name;
  Severity severity = Severity::kError;
  int64_t failing_rows = 0;
  bool passed = true;
  std::string detail;                        // e.g. "3 rows written, expected >= 1000"
};

class CheckRunner {
 public:
  // Binds the checks to `schema` (the written rows' schema); unknown columns, bounds that do not
  // parse as the column's type and bad patterns are InvalidArgument errors naming the check.
  static absl::StatusOr<std::unique_ptr<CheckRunner>> Create(std::vector<CheckSpec> specs,
                                                             const Schema& schema);
  ~CheckRunner();

  bool empty() const { return checks_.empty(); }
  // Counts failing rows among the selected rows of `batch`. Thread-safe.
  void Update(const Batch& batch, const Selection& sel);
  // The results once every batch went through Update; `rows_out` is the number of rows written.
  std::vector<CheckResult> Finish(int64_t rows_out) const;

  struct Bound;  // one check bound to the schema (clean_checks.cc)

 private:
  CheckRunner() = default;
  std::vector<std::unique_ptr<Bound>> checks_;
};

// [{"check":"not_null(origin)","severity":"error","failing_rows":3,"passed":false,
//   "detail":"..."},...]
std::string CheckResultsJson(const std::vector<CheckResult>& results);

}  // namespace de::engine
