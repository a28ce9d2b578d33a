// The `clean` pipeline over batches: a CleanSpec (the task's options) compiled against the input
// schema into a CleanPlan, run by one CleanWorker per thread over the batches a TableSource
// produces. The steps, in this order (every option names columns by their name after `rename`):
//
//   1. rename        {old: new}
//   2. text          invalid UTF-8 -> U+FFFD and control characters removed (`invalid_text:
//                    replace`, the default) or the row rejected (`reject`), on every string column;
//                    `trim` (true = every string column, or a list); `null_if` tokens (every string
//                    column; compared after trimming); `lower` / `upper` (lists)
//   3. cast          {col: type}; a value that does not convert: on_error reject (the row goes to
//                    `_rejects.csv`, reason "cast delay 'abc' to int32"), null, or fail (the task
//                    fails naming the row and value)
//   4. filter        BoundExpr::Filter (bound against filter_schema()); rows dropped are counted
//                    as filtered, not rejected
//   5. dedupe        {keys, keep: first|last}; see CleanRun below for threads and passes
//   6. select / drop the written columns (default: all); then `checks` over the written rows
//                    (checks name columns as the filter does; they need not be written)
//
// Only the columns written or used by a step are read and cleaned (InputColumns()).
//
// Thread safety: CleanSpec/CleanPlan are immutable values once built; CleanRun is shared by the
// threads of one task (its methods are thread-safe); a CleanWorker belongs to one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/columnar/selection.h"
#include "engine/csv/csv_reader.h"
#include "engine/ops/clean_cast.h"
#include "engine/ops/clean_checks.h"
#include "engine/ops/clean_keys.h"
#include "engine/ops/clean_text.h"
#include "engine/ops/expr.h"
#include "yaml-cpp/yaml.h"

namespace de::engine {

struct DedupeSpec {
  std::vector<std::string> keys;
  bool keep_last = false;
};

struct CleanSpec {
  std::vector<std::string> select;                              // empty = every column
  std::vector<std::string> drop;
  std::vector<std::pair<std::string, std::string>> rename;      // old -> new
  std::vector<std::pair<std::string, Type>> cast;
  OnError on_error = OnError::kReject;
  bool trim_all = false;
  std::vector<std::string> trim;
  std::vector<std::string> null_if;
  std::vector<std::string> lower, upper;
  BadText invalid_text = BadText::kReplace;
  std::string filter;                                           // "" = none
  std::optional<DedupeSpec> dedupe;
  std::vector<CheckSpec> checks;
};

// The clean keys of a task's `with:` map (select, drop, rename, cast, on_error, trim, null_if,
// lower, upper, invalid_text, filter, dedupe, checks); other keys are ignored (the task checks
// them). Errors name the key and say what was expected.
absl::StatusOr<CleanSpec> ParseCleanSpec(const YAML::Node& with);
// The keys ParseCleanSpec reads.
const std::vector<std::string>& CleanSpecKeys();

class CleanPlan {
 public:
  // `schema`: the input's columns (all of them). `filter_columns`: the columns the filter names
  // (ReferencedColumns; names after rename).
  static absl::StatusOr<CleanPlan> Create(const CleanSpec& spec, const Schema& schema,
                                          const std::vector<std::string>& filter_columns);

  // Input columns to read (input names, input order); the plan below is then re-created over
  // exactly these columns with Narrow().
  const std::vector<std::string>& InputColumns() const { return input_columns_; }
  // The same plan over a source that reads only InputColumns(), in that order.
  absl::StatusOr<CleanPlan> Narrow(const Schema& narrowed) const;

  // Columns after rename and cast: bind the filter against this.
  const Schema& filter_schema() const { return work_schema_; }
  // The written columns (select/drop applied) and where they are in the working batch.
  const Schema& output_schema() const { return out_schema_; }
  const std::vector<int>& output_columns() const { return out_cols_; }
  const CleanSpec& spec() const { return spec_; }

  struct ColumnSteps {
    bool fix_text = false, trim = false, null_if = false, lower = false, upper = false;
    std::optional<Type> cast;
  };
  const std::vector<ColumnSteps>& steps() const { return steps_; }
  const std::vector<int>& dedupe_columns() const { return dedupe_cols_; }

 private:
  static absl::StatusOr<CleanPlan> Build(const CleanSpec& spec, const Schema& schema,
                                          const std::vector<std::string>& filter_columns,
                                          bool lenient);

  CleanSpec spec_;
  std::vector<std::string> filter_columns_;
  Schema in_schema_;
  Schema work_schema_;
  std::vector<ColumnSteps> steps_;
  std::vector<std::string> input_columns_;
  std::vector<int> dedupe_cols_;
  Schema out_schema_;
  std::vector<int> out_cols_;
};

// State shared by the threads of one clean task.
//
// dedupe keep: first with one thread is one pass (a KeySet: the first occurrence in input order
// wins). keep: last, or keep: first with several threads (morsels finish out of input order), is
// two passes over the input: pass 1 (kCollect) runs steps 1-4 and records for every key the
// position (file, row) of its first/last occurrence (KeyPositions), writing nothing; pass 2
// (kEmit) runs again and keeps a row only at its key's recorded position. Memory stays one entry
// per distinct key; the price is reading and cleaning the input twice.
class CleanRun {
 public:
  enum class Pass { kSingle, kCollect, kEmit };
  CleanRun(const CleanPlan* plan, const BoundExpr* filter, CheckRunner* checks, int threads);

  const CleanPlan& plan() const { return *plan_; }
  const BoundExpr* filter() const { return filter_; }
  CheckRunner* checks() const { return checks_; }
  bool two_pass() const { return two_pass_; }
  Pass pass() const { return pass_; }
  void set_pass(Pass p) { pass_ = p; }
  KeySet& key_set() { return key_set_; }
  KeyPositions& key_positions() { return key_positions_; }

 private:
  const CleanPlan* plan_;
  const BoundExpr* filter_;
  CheckRunner* checks_;
  bool two_pass_ = false;
  Pass pass_ = Pass::kSingle;
  KeySet key_set_;
  KeyPositions key_positions_;
};

struct CleanCounters {
  int64_t rows_in = 0;
  int64_t rows_out = 0;
  int64_t rows_filtered = 0;
  int64_t rows_deduped = 0;
  int64_t rows_rejected = 0;
  int64_t values_nulled = 0;          // null_if tokens
  int64_t values_cast_nulled = 0;     // on_error: null
  int64_t values_repaired = 0;        // invalid UTF-8 / control characters replaced
  std::map<std::string, int64_t> rejected_by_reason;   // "cast delay to int32": n
  void Add(const CleanCounters& o);
};

class CleanWorker {
 public:
  explicit CleanWorker(CleanRun* run) : run_(run) {}

  // Runs the steps over `batch` (changed in place: its columns become filter_schema()'s).
  // `first_row`: the row number that batch row 0 reports in rejects and errors (1-based line or
  // row); `position`: a number ordered like the input for batch row 0 (dedupe: first/last).
  // On return `sel` holds the rows to write (output_columns() of `batch`); rejected rows were
  // appended to `rejects` (line, reason, the row's values as CSV). With on_error: fail the first
  // bad value is an InvalidArgument "SOURCE:ROW: cast delay 'abc' to int32".
  absl::Status Process(Batch* batch, const std::string& source, int64_t first_row,
                       uint64_t position, Selection* sel, std::vector<CsvReject>* rejects);

  const CleanCounters& counters() const { return counters_; }

 private:
  void Reject(const Batch& batch, uint32_t row, int64_t first_row, const std::string& key,
              std::string detail, std::vector<CsvReject>* rejects);
  absl::Status Dedupe(const Batch& batch, uint64_t position, Selection* sel);

  CleanRun* run_;
  CleanCounters counters_;
  Column scratch_;
  std::vector<CastFailure> failures_;
  std::vector<uint32_t> bad_rows_;
  std::vector<uint8_t> dead_;
  std::vector<Key128> keys_;
};

}  // namespace de::engine
