// A DAG's `params:` block: typed declarations, and the checks of a run's conf against them (at
// trigger and backfill time, in the scheduler). Pure functions; thread-safe; yaml-cpp exceptions
// never escape.
//
//   params:
//     who: world                                   # short form: a string with this default
//     n: { type: int, default: 3 }                 # string | int | float | bool | date
//     day: { type: date, description: "the day" }  # no default: every trigger must give it
//     files: { type: list, default: [a.csv, b.csv] }  # comma-separated: --conf files=a.csv,b.csv
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/dag/dag.h"
#include "yaml-cpp/yaml.h"

namespace de::dag {

// "string", "int", "float", "bool", "date", "list".
const char* ParamTypeName(ParamType t);

// The environment variable a param's value reaches a task in: DE_PARAM_<NAME>, upper-cased, any
// character other than [A-Z0-9_] replaced by '_'.
std::string ParamEnvName(std::string_view name);

// `value` checked against `type` and normalized (int: canonical digits; bool: true/false from
// true/false/yes/no/on/off/1/0; date: YYYY-MM-DD; list: items trimmed, joined by ','). The error says what was expected.
absl::StatusOr<std::string> NormalizeParamValue(ParamType type, std::string_view value);

// The items of a list (or comma-separated string) param value: split on ',', each trimmed,
// empty ones dropped.
std::vector<std::string> SplitListParam(std::string_view value);

struct DagParamProblem {
  YAML::Node node;  // where (its Mark())
  std::string message;
};

// Reads the `params:` mapping into `dag->params` (defaults) and `dag->param_decls`, adding each
// name to `names`. `scheduled`: the DAG has a schedule, so every param needs a default.
std::vector<DagParamProblem> ReadDagParams(const YAML::Node& params, bool scheduled, DagSpec* dag,
                                        std::set<std::string>* names);

// A run's conf checked against the DAG's declarations: every key declared ("unknown param 'wh'
// (did you mean 'who'?)"), every value of its type ("--conf n=abc: param n is an int"), every
// param without a default given. Returns the conf with normalized values. InvalidArgument.
absl::StatusOr<std::map<std::string, std::string>> CheckConf(
    const DagSpec& dag, const std::map<std::string, std::string>& conf);

}  // namespace de::dag
