// `{{ name }}` templating for DAG values. Pure functions; thread-safe.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/dag/template_filters.h"
#include "yaml-cpp/yaml.h"

namespace de::dag {

// Values for one task attempt. `vars` holds the standard names (ds, ds_nodash, ts,
// data_interval_start, data_interval_end, logical_date, run_id, dag, task, attempt);
// `params` the DAG params merged with the run's conf.
// `variables` and `secrets` hold the values of the {{ var.NAME }} and {{ secret.NAME }} the
// task uses (resolved by the scheduler for that attempt only).
struct TemplateContext {
  std::map<std::string, std::string> vars;
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> variables;
  std::map<std::string, std::string> secrets;
};

// The names a DAG takes from outside it: {{ var.NAME }} and {{ secret.NAME }}.
inline constexpr std::string_view kVarPrefix = "var.";
inline constexpr std::string_view kSecretPrefix = "secret.";

// The standard variable names (without params.*).
const std::set<std::string>& StandardTemplateVars();

// The names only a task instance of a `for_each:` task has: item (its item) and map_index (its
// position, from 0). CheckTemplate accepts them; the loader refuses them outside for_each tasks.
const std::set<std::string>& MappedTemplateVars();

// Fills the standard vars. Dates are formatted in `tz`: ds = YYYY-MM-DD, ds_nodash = YYYYMMDD,
// ts / logical_date / data_interval_* = ISO 8601 with offset (2024-01-01T00:00:00+00:00).
TemplateContext MakeTemplateContext(const std::string& dag_id, const std::string& run_id,
                                    const std::string& task_id, int attempt,
                                    absl::Time logical_date, absl::Time interval_start,
                                    absl::Time interval_end, absl::TimeZone tz,
                                    const std::map<std::string, std::string>& params);

// One `{{ name }}` or `{{ name | filter | ... }}` reference found by ScanTemplate.
struct TemplateRef {
  std::string_view name;  // "ds", "params.who"
  std::vector<TemplateFilter> filters;   // in the order written (common/dag/template_filters.h)
  bool raw = false;       // `| raw` among them: inserted as is even into a shell command
  size_t offset = 0;      // of the "{{" in the text
};

// Splits `text` into literal pieces and references, calling `on_literal` / `on_ref` in order;
// stops at the first error (a malformed reference, an unknown filter, or a callback's error).
// An unknown filter's message names it, the reference and the known filters.
absl::Status ScanTemplate(std::string_view text,
                          const std::function<absl::Status(std::string_view)>& on_literal,
                          const std::function<absl::Status(const TemplateRef&)>& on_ref);

// The value of `name` ("ds", "params.who") in `ctx`; an error naming it (with the nearest known
// name) when there is none.
absl::StatusOr<std::string> LookupTemplateValue(std::string_view name, const TemplateContext& ctx);

// The value `ref` stands for: its name's value (LookupTemplateValue) through its filters.
absl::StatusOr<std::string> TemplateRefValue(const TemplateRef& ref, const TemplateContext& ctx);

// Renders one string. Errors: unknown variable or filter, unterminated "{{". `| raw` makes no
// difference here.
absl::StatusOr<std::string> RenderTemplate(std::string_view text, const TemplateContext& ctx);

// Checks a template without values: every name must be a standard var or params.<p> with p in
// `param_names`. On error the message names the variable (and suggests the nearest known one).
// `var.NAME` and `secret.NAME` are accepted when NAME is a valid name (letters, digits, _); their
// existence is checked by the scheduler at submit time. When `external` is given, each such
// reference's full name ("var.region") is appended to it. On an error, `error_offset` (when
// given) is set to the offset in `text` of the "{{" at fault.
absl::Status CheckTemplate(std::string_view text, const std::set<std::string>& param_names,
                           std::vector<std::string>* external = nullptr,
                           size_t* error_offset = nullptr);

// Renders every scalar string in a YAML tree (keys untouched) and returns the result as YAML text.
absl::StatusOr<std::string> RenderYaml(const YAML::Node& node, const TemplateContext& ctx);

// RenderYaml for the `with:` block of a task of `type`: for a shell task, the string form of
// `command` is rendered by RenderShellCommand (every value quoted for the shell).
absl::StatusOr<std::string> RenderTaskYaml(std::string_view type, const YAML::Node& with,
                                           const TemplateContext& ctx);

// Renders a shell command line: each value is quoted for the shell context it stands in, so it
// is one literal string (common/dag/shell_quote.h); `{{ name | raw }}` is inserted unquoted.
// Errors: unknown variable, a value in a place that cannot be quoted (inside backticks, right
// after a backslash, ...), a non-integer inside $(( )).
absl::StatusOr<std::string> RenderShellCommand(std::string_view text, const TemplateContext& ctx);

// Checks the places of the templates in a shell command line (without values): an error for a
// place no value can stand in. Names are not checked here (CheckTemplate does). The names used
// with `| raw` are appended to `raw_names` (for a warning). On an error, `error_offset` (when
// given) is set to the offset in `text` of the "{{" of the template at fault, or npos when the
// fault is the command's literal text after it.
absl::Status CheckShellCommand(std::string_view text, std::vector<std::string>* raw_names,
                               size_t* error_offset = nullptr);

}  // namespace de::dag
