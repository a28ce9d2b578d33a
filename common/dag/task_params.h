// The one declaration of every task type's `with:` parameters: name, type, allowed values,
// required, default and a doc line. The DAG loader validates `with:` blocks against it
// (common/dag/param_check.h), `de-worker task` parses and validates key=value arguments with it,
// and the README's parameter reference is generated from it (ParamsMarkdown()).
// Everything here is immutable static data and pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace de::dag {

// How a parameter's value is shaped and checked.
enum class ParamKind {
  kString,     // any scalar, kept as text
  kInt,        // an integer >= ParamSpec::min_int
  kBool,       // true/false (also yes/no, on/off)
  kSize,       // a byte size: 192MB, 1GiB, 65536
  kDuration,   // 30s, 5m, 1h30m (common/dag/loader.h ParseDuration)
  kChar,       // one character, or \t / tab (or `none` where allowed)
  kEnum,       // one of ParamSpec::allowed
  kExpr,       // an expression of the filter language (engine/ops/expr.h), checked for syntax
  kTypeName,   // a column type: bool int32 int64 double date timestamp string
  kColumns,    // a column name or a list of column names
  kStrings,    // a string or a list of strings
  kList,       // a list whose elements are ParamSpec::fields[0]
  kMap,        // {name: value} with values per ParamSpec::fields[0]
  kStruct,     // a map with the declared keys ParamSpec::fields (a scalar is its `shorthand` key)
  kInput,      // a path/glob/folder, or {path, from, to, allow_missing}
  kMetric,     // "count(*)", "sum(col)", "quantile(col, 0.95)"; functions in MetricFunctions()
  kCheck,      // one data-quality check {not_null|unique|accepted_values|range|regex|row_count}
  kGroupBy,    // a column name, or {bucket: hour|day|week|month|year, of: col, as: name}
  kPartition,  // a column name, or {column: col, granularity: day|month|value, as: name}
  kCommand,    // a string (run by /bin/sh -c) or a non-empty list of strings (argv)
  kOneOf,      // the first of ParamSpec::fields whose shape fits (scalar vs list vs map)
};

struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::kString;
  bool required = false;
  std::string default_value;         // as shown to users ("" = no default / task decides)
  std::string doc;                   // one line
  std::vector<std::string> allowed;  // kEnum (and kChar: extra words such as "none")
  long long min_int = 0;             // kInt lower bound
  std::vector<ParamSpec> fields;     // kStruct keys; kList/kMap element (fields[0]); kOneOf
  std::string shorthand;             // kStruct: a scalar value means {shorthand: value}
  bool pairs_list = false;           // kMap: also accept a list of one-pair maps [{a: x}, {b: y}]
};

struct TaskParams {
  std::string type;  // shell noop csv_to_parquet clean aggregate
  std::string doc;   // one line
  std::vector<ParamSpec> params;
};

// Every task type, in the order of KnownTaskTypes() (common/dag/dag.h).
const std::vector<TaskParams>& AllTaskParams();
// The declaration of `type`, or nullptr.
const TaskParams* FindTaskParams(std::string_view type);
// The declaration of `key` in `type`, or nullptr.
const ParamSpec* FindParam(std::string_view type, std::string_view key);

// Aggregate functions `metrics:` may use.
const std::vector<std::string>& MetricFunctions();
// Column types `schema:` and `cast:` may name.
const std::vector<std::string>& ColumnTypeNames();

// A short human name of a parameter's type ("enum: snappy|zstd|gzip|none", "list of columns").
std::string KindName(const ParamSpec& p);

// `de-worker task --help TYPE`: the declared parameters as aligned text.
std::string ParamsHelp(const TaskParams& t);
// The README reference: one markdown section and table per task type (stable text).
std::string ParamsMarkdown();

}  // namespace de::dag
