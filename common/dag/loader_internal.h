// The DAG loader's working state, shared by its parts (private to common/dag/loader*.cc; callers
// use loader.h). One Loader reads one file: it walks the YAML document and collects every
// problem as a Diagnostic with file:line:column. The parts, one concept per file:
//   loader.cc           the entry points and the walk of the top-level document (with the
//                       small keys: dag, description, max_active_*, sla, params, defaults)
//   loader_values.cc    diagnostics, key checks, scalar readers (string, int, bool, duration),
//                       template checks and positions inside a value
//   loader_time.cc      timezone, schedule, start_date/end_date, catchup, the schedule's warning
//   loader_tasks.cc     tasks and the fields `defaults:` can set, typed `with:` checks (task
//                       parameters, shell template places), `needs`, order and cycles
//   loader_alerts.cc    alerts, wait_for, sla/deadline
//   loader_waits.cc     wait_for entries on data (path, glob, min_files, poke_interval, ...)
//   loader_trigger_rule.cc  a task's trigger_rule
//   loader_foreach.cc   for_each / max_parallel (mapped tasks), {{ item }} only there
// Not thread-safe (one Loader per load); yaml-cpp exceptions are caught in Run().
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/dag/dag.h"
#include "common/dag/loader.h"
#include "yaml-cpp/yaml.h"

namespace de::dag::loader_internal {

// True when `s` is non-empty and only [a-z0-9_] (and '-' with `allow_dash`).
bool MatchesIdChars(absl::string_view s, bool allow_dash);

// 1-based line/column of a yaml-cpp mark ({} when unknown).
Location ToLocation(const YAML::Mark& m);

// Task fields a `defaults:` block can set.
struct TaskDefaults {
  RetryPolicy retry;
  std::optional<absl::Duration> timeout;
  std::string pool = "default";
  int priority = 0;
  std::optional<TriggerRule> trigger_rule;   // unset: all_success
};

// Per-task data kept only while loading.
struct TaskDraft {
  TaskSpec spec;
  bool has_id = false;
  YAML::Mark id_mark;
  std::vector<YAML::Node> need_nodes;
};

class Loader {
 public:
  Loader(std::string_view text, std::string_view file) : text_(text), file_(file) {}

  // loader.cc
  LoadResult Run();
  // The scheduler-wide alerts file: a YAML list of alert entries (or a mapping with `alerts:`).
  AlertsLoadResult RunAlertsFile();

 private:
  // loader.cc: the document walk.
  LoadResult Finish();
  // A YAML parse error, or the tab in the indentation that caused it.
  void SyntaxError(const YAML::ParserException& e);
  void Validate(const YAML::Node& root);
  void ReadIdentity(const YAML::Node& root);
  void ReadLimits(const YAML::Node& root);
  void ReadParams(const YAML::Node& root);
  void ReadAlertsAndWaits(const YAML::Node& root);
  void ReadTasks(const YAML::Node& root, const TaskDefaults& defaults);

  // loader_values.cc
  void Error(const YAML::Mark& m, std::string message);
  void Error(const YAML::Node& n, std::string message) { Error(n.Mark(), std::move(message)); }
  void Warning(const YAML::Node& n, std::string message);
  // Line `line` (0-based) of the text without its newline; nullopt past the end.
  std::optional<absl::string_view> TextLine(int line) const;
  // A hint for the most common syntax error in DAG files: an unquoted {{ }} inside a flow
  // mapping or sequence, where '{' and '}' are YAML syntax.
  std::string TemplateHint(const YAML::Mark& m) const;
  // The position of column `column` (1-based) of expression `expr` whose value starts at
  // `value`: exact when the value is a plain or simply quoted scalar on one line, else `value`.
  YAML::Mark ExprMark(const YAML::Mark& value, const std::string& expr, int column) const;
  // The position of offset `offset` of the text of `scalar` when it is on a later line of a
  // literal block scalar (`|`) and the file there shows a template ("{{"); else `scalar`'s own.
  YAML::Mark BlockOffsetMark(const YAML::Node& scalar, size_t offset) const;
  // The file position of the template at offset `offset` ("{{") of the text of `scalar`: in a
  // block scalar (| or >) its own line and column, wherever it is indented; `scalar`'s own
  // position when the file does not show the template as it is in the text.
  YAML::Mark TemplateMark(const YAML::Node& scalar, size_t offset) const;
  // Reports unknown and duplicate keys of `map`; `what` names the block in messages.
  void CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
                 absl::string_view what);
  // Scalar text of `n`, or an error "<name> must be a string".
  std::optional<std::string> String(const YAML::Node& n, absl::string_view name);
  std::optional<int> Int(const YAML::Node& n, absl::string_view name, int min,
                         absl::string_view kind);
  std::optional<bool> Bool(const YAML::Node& n, absl::string_view name);
  // A duration; `positive` rejects zero and negative values.
  std::optional<absl::Duration> Duration(const YAML::Node& n, absl::string_view name,
                                         bool positive);
  // Checks every string scalar under `n` (map values and sequence items) as a template.
  // Checks every template under `n`; var./secret. references go to dag_.external_refs and to
  // `refs` (a task's); where `refs` is null (params, alert hooks) they are an error.
  void CheckTemplates(const YAML::Node& n, std::vector<std::string>* refs = nullptr);

  // loader_time.cc
  void ReadTimezone(const YAML::Node& root);
  // schedule, start_date, end_date (one Schedule::Parse, once the dates are known).
  void ReadScheduleAndDates(const YAML::Node& root);
  void ReadCatchup(const YAML::Node& root);
  std::optional<absl::Time> Date(const YAML::Node& n, absl::string_view name);

  // loader_tasks.cc
  void ReadTaskFields(const YAML::Node& m, TaskDefaults* out);
  std::optional<TaskDraft> ReadTask(const YAML::Node& t, const TaskDefaults& defaults);
  void ReadTaskId(const YAML::Node& t, TaskDraft* draft);
  void ReadTaskType(const YAML::Node& t, TaskSpec* spec);
  void ReadNeeds(const YAML::Node& t, TaskDraft* draft);
  // Reads `with:`; returns it when it is a mapping (else a null node).
  YAML::Node ReadWith(const YAML::Node& t, TaskSpec* spec);
  // Checks `with` (null when the task has no `with:` mapping) against the task type's declared
  // parameters (common/dag/task_params.h): unknown keys, types, allowed values, required keys,
  // expressions.
  void CheckRequiredWith(const TaskSpec& spec, const YAML::Node* with, const YAML::Node& task);
  // Resolves `needs`, reports cycles, and stores the tasks in a stable topological order.
  void OrderTasks(std::vector<TaskDraft>& drafts);
  // Finds cycles among tasks Kahn's algorithm could not order (indegree > 0) with an iterative
  // DFS in file order; reports each distinct one as "cycle: a -> b -> a" (upstream ->
  // downstream), starting at its earliest task in the file.
  void ReportCycles(const std::vector<TaskDraft>& drafts, const std::vector<std::vector<int>>& down,
                    const std::vector<int>& indegree);

  // loader_trigger_rule.cc: a `trigger_rule:` value (of a task or of `defaults:`), nullopt
  // after reporting an error.
  std::optional<TriggerRule> ReadTriggerRuleValue(const YAML::Node& n);
  // The rule of task `t` into spec->trigger_rule: its own `trigger_rule:`, else `inherited` (from
  // `defaults:`), else all_success; warns about a rule set on a task without needs.
  void ReadTriggerRule(const YAML::Node& t, std::optional<TriggerRule> inherited, TaskSpec* spec);
  // loader_foreach.cc: `for_each:` / `max_parallel:`, and {{ item }} outside a mapped task.
  void ReadForEach(const YAML::Node& t, TaskSpec* spec);
  bool ReadForEachParam(const YAML::Node& v, ForEachSpec* fe);
  bool ReadForEachPartitions(const YAML::Node& v, ForEachSpec* fe);

  // loader_alerts.cc
  void ReadAlert(const YAML::Node& a);
  void ReadAlertEvents(const YAML::Node& a, AlertSpec* spec);
  // webhook: URL  or  webhook: {url: URL, headers: {Name: value}}
  void ReadWebhook(const YAML::Node& w, AlertSpec* spec);
  void ReadWebhookHeaders(const YAML::Node& h, AlertSpec* spec);
  // pagerduty: {routing_key: KEY, url: ENDPOINT?}
  void ReadPagerDuty(const YAML::Node& p, AlertSpec* spec);
  void ReadWaitFor(const YAML::Node& w);
  void ReadWaitWindow(const YAML::Node& win, WaitFor* spec);
  // loader_waits.cc: a `wait_for:` entry with `path:` or `glob:` (data arrival).
  void ReadFileWait(const YAML::Node& w);
  void CheckWaitPattern(const YAML::Node& n, absl::string_view key);
  // `sla:` / `deadline:`: a duration (after interval_end), or {after: ANCHOR, within: DURATION}.
  std::optional<Deadline> ReadDeadline(const YAML::Node& n, absl::string_view name);

  std::string text_;
  std::string file_;
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;
  DagSpec dag_;
  absl::TimeZone zone_;
  std::set<std::string> param_names_;
  std::map<std::string, int> first_task_line_;
};

}  // namespace de::dag::loader_internal
