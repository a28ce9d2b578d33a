// `{{ name }}` templating for DAG values. Pure functions; thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "yaml-cpp/yaml.h"

namespace de::dag {

// Values for one task attempt. `vars` holds the standard names (ds, ds_nodash, ts,
// data_interval_start, data_interval_end, logical_date, run_id, dag, task, attempt);
// `params` the DAG params merged with the run's conf.
struct TemplateContext {
  std::map<std::string, std::string> vars;
  std::map<std::string, std::string> params;
};

// The standard variable names (without params.*).
const std::set<std::string>& StandardTemplateVars();

// Fills the standard vars. Dates are formatted in `tz`: ds = YYYY-MM-DD, ds_nodash = YYYYMMDD,
// ts / logical_date / data_interval_* = ISO 8601 with offset (2024-01-01T00:00:00+00:00).
TemplateContext MakeTemplateContext(const std::string& dag_id, const std::string& run_id,
                                    const std::string& task_id, int attempt,
                                    absl::Time logical_date, absl::Time interval_start,
                                    absl::Time interval_end, absl::TimeZone tz,
                                    const std::map<std::string, std::string>& params);

// Renders one string. Errors: unknown variable, unterminated "{{".
absl::StatusOr<std::string> RenderTemplate(std::string_view text, const TemplateContext& ctx);

// Checks a template without values: every name must be a standard var or params.<p> with p in
// `param_names`. On error the message names the variable (and suggests the nearest known one).
absl::Status CheckTemplate(std::string_view text, const std::set<std::string>& param_names);

// Renders every scalar string in a YAML tree (keys untouched) and returns the result as YAML text.
absl::StatusOr<std::string> RenderYaml(const YAML::Node& node, const TemplateContext& ctx);

}  // namespace de::dag
