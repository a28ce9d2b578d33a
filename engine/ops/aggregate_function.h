// Aggregate functions as descriptors. Each function is one entry of a table (name, argument shape,
// result type, state factory); its state is a struct of arrays indexed by group id, so one
// AggregateState holds the partial results of every group of one hash table:
//
//   Resize(groups)      new groups start empty (count 0, sum/min/max/avg null)
//   Update(col, sel, g) adds rows sel[i] of `col` to groups g[i]
//   Combine(other, map) adds another table's states (its group j goes to group map[j])
//   Finalize(out)       one value per group into a typed output column
//
// Functions (SQL semantics; nulls are ignored by every function but count(*)):
//   count(*)              int64, rows
//   count(col)            int64, non-null values
//   sum(col)              int32/int64 -> int64 (overflow is an error naming the metric);
//                         decimal(p,s) -> decimal(18,s), exact (overflow checked); double -> double; null when a group has no non-null value
//   min(col), max(col)    any type (bool, ints, double, date, timestamp, string by bytes);
//                         NaN sorts above every number (as DuckDB)
//   avg(col)              numbers, decimals -> double (integers summed exactly in 128 bits)
//   count_distinct(col)   int64, exact: one hash-set entry per distinct (group, value)
//   quantile(col, q)      exact, discrete (DuckDB's quantile_disc): the value at index
//                         max(1, n - floor(n - n*q)) - 1 of the group's sorted values; numbers,
//                         decimal, date, timestamp; result type = input type
//   quantile_cont(col, q) exact, linear interpolation between the values at floor/ceil of
//                         (n-1)*q (DuckDB's quantile_cont); numbers -> double
//   median(col)           quantile_cont(col, 0.5)
// Memory: count/sum/min/max/avg keep a few bytes per group (min/max of strings keep the string);
// count_distinct keeps every distinct (group, value) pair (~16 bytes + the string); quantiles keep
// every non-null value of the column (8 bytes each) until Finalize.
//
// Thread safety: the function table is immutable; an AggregateState belongs to one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/columnar/selection.h"

namespace de::engine {

class AggregateState {
 public:
  virtual ~AggregateState() = default;
  // Grows to `groups` groups (never shrinks); the new groups are empty.
  virtual void Resize(size_t groups) = 0;
  // Adds rows sel[i] of `input` to groups group_ids[i] (i < sel.size()). `input` is null for
  // count(*). Fails only on overflow (the message says what overflowed).
  virtual absl::Status Update(const Column* input, const Selection& sel,
                              const uint32_t* group_ids) = 0;
  // Adds `other` (the same function over the same input type) into this: other's group j into
  // group map[j]. May move data out of `other`, which is left unusable.
  virtual absl::Status Combine(AggregateState& other, const uint32_t* map) = 0;
  // Writes one value per group (the result type; nulls in `valid`) into `out`.
  virtual absl::Status Finalize(Column* out) = 0;
  // Bytes held (approximate).
  virtual size_t MemoryBytes() const = 0;
};

// A metric as written: `count(*)`, `sum(distance)`, `quantile(delay, 0.95)`.
struct AggregateCall {
  std::string function;            // lower case
  std::string column;              // "" for count(*)
  bool star = false;
  std::optional<double> fraction;  // quantile's q
  std::string text;                // as written (trimmed), for messages
};
// Parses "fn(*)", "fn(col)", "fn(\"col name\")", "fn(col, 0.95)". Errors say what is wrong.
absl::StatusOr<AggregateCall> ParseAggregateCall(std::string_view text);

struct AggregateFunction {
  const char* name;
  enum class Args { kStar, kColumn, kColumnFraction } args;
  // The result type for input type `input` (unused for kStar), or an error naming the types
  // the function accepts.
  absl::StatusOr<Type> (*result_type)(Type input);
  // A state for input type `input` (already accepted by result_type; `scale` for decimals) and
  // fraction `q`.
  std::unique_ptr<AggregateState> (*make)(Type input, int scale, double q);
  std::optional<double> fixed_fraction = std::nullopt;   // median: 0.5
};

// Every function, in the order of the table; FindAggregateFunction is by (lower-case) name.
const std::vector<AggregateFunction>& AggregateFunctions();
const AggregateFunction* FindAggregateFunction(std::string_view name);

// A metric bound to an input schema.
struct BoundAggregate {
  std::string name;                    // output column
  std::string label;                   // "sum(distance)"
  const AggregateFunction* function = nullptr;
  int input = -1;                      // input column, -1 for count(*)
  Type input_type = Type::kInt64;
  int input_scale = 0;                 // kDecimal input
  Type result_type = Type::kInt64;
  int result_precision = 0, result_scale = 0;   // kDecimal result
  double fraction = 0;
  std::unique_ptr<AggregateState> NewState() const { return function->make(input_type, input_scale, fraction); }
};

// Binds metric `name: call` against `schema`: unknown functions and columns (with "did you
// mean"), wrong argument shapes, fractions outside [0, 1] and unsupported types are errors that
// name the metric.
absl::StatusOr<BoundAggregate> BindAggregate(const std::string& name, const AggregateCall& call,
                                             const Schema& schema);

// "did you mean X?" helper shared with the group-by binder: the closest of `names` to `s`
// (edit distance <= 2), or "".
std::string ClosestName(std::string_view s, const std::vector<std::string>& names);

}  // namespace de::engine
