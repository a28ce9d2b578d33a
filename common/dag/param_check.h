// Validates a task's `with:` parameters against its declaration (common/dag/task_params.h):
// unknown keys (with "did you mean"), missing required keys, wrong types, values not allowed,
// expressions that do not parse, bad metrics and checks. Every problem is reported, not only the
// first. Values that contain `{{ }}` templates are not type-checked (they are only known after
// rendering); their keys still are. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "yaml-cpp/yaml.h"

namespace de::dag {

struct ParamProblem {
  YAML::Mark mark;      // the offending node (line/column -1 when unknown)
  std::string message;  // "with.compression: 'lz4' is not one of snappy, zstd, gzip, none"
  // For an expression error: the 1-based column inside `expr_text` (0 = unknown), so the loader
  // can point into the file when the value is a plain one-line scalar.
  int expr_column = 0;
  std::string expr_text;
};

struct ParamCheckOptions {
  // Names the task in "needs" messages: "task 'convert' (csv_to_parquet)" or "csv_to_parquet".
  std::string subject;
  // Prefix of parameter paths in messages: "with." in DAG files, "" on the command line.
  std::string key_prefix = "with.";
};

// Checks `with` (a map, or null/undefined when the task has none) for task type `type`.
// `where` marks missing-key errors when `with` is absent. Unknown `type` -> no problems (the
// loader reports unknown types itself).
std::vector<ParamProblem> CheckTaskParams(std::string_view type, const YAML::Node& with,
                                          const ParamCheckOptions& options,
                                          const YAML::Mark& where = YAML::Mark::null_mark());

// In DAG files YAML reads `on_error: null` as no value; for a parameter whose allowed values
// include "null" that means the value "null". Rewrites such values of `with` (a map) to the
// string, so tasks see what the user meant.
void NormalizeNullEnums(std::string_view type, YAML::Node* with);

// The problems as one InvalidArgument status (one problem per line), or OK when there are none.
absl::Status ProblemsToStatus(const std::vector<ParamProblem>& problems);

// The words a DAG file's booleans are written in: true/yes/on, false/no/off, in any case.
// False (and *out untouched) for anything else.
bool ParseBoolWord(std::string_view s, bool* out);

// True when the scalar text contains a `{{` template.
bool HasTemplate(std::string_view text);

}  // namespace de::dag
