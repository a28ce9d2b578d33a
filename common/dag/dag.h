// The DAG model: what a validated DAG YAML file means. Plain values, copyable, no behaviour.
// Produced only by LoadDag() (common/dag/loader.h), which guarantees every invariant noted here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "yaml-cpp/yaml.h"

namespace de::dag {

// 1-based position in the source file; 0 = unknown.
struct Location {
  int line = 0;
  int column = 0;
};

enum class Backoff { kFixed, kExponential };

struct RetryPolicy {
  int retries = 0;                                   // extra tries after the first
  absl::Duration retry_delay = absl::Seconds(30);
  Backoff backoff = Backoff::kFixed;
  absl::Duration max_retry_delay = absl::Hours(1);   // cap for exponential backoff
};

// What a `wait_for:` entry waits on: other DAGs' runs, or data arriving under the data root.
enum class WaitKind { kDag, kPath, kGlob };

// `wait_for:` entry. kDag: this DAG's run waits until `dag` (optionally one `task` of it) has
// succeeded for every interval of `dag`'s schedule whose logical date lies in the window.
// kPath / kGlob (`path:` / `glob:`): until the templated `pattern`, relative to the data root,
// exists (a file or folder) / matches at least `min_files` files, as a worker sees it; checked
// every `poke_interval` (doubling with `exponential_backoff`), and only files at least `min_age`
// old count (common/dag/loader_waits.cc reads them, server/sched/file_waits.h checks them).
struct WaitFor {
  WaitKind kind = WaitKind::kDag;
  std::string pattern;                               // path: / glob: (templates not rendered)
  int min_files = 1;
  absl::Duration poke_interval = absl::Seconds(30);
  bool exponential_backoff = false;
  absl::Duration min_age;                            // zero: any file counts at once
  std::string dag;
  std::string task;                 // empty = the whole run
  bool window_is_interval = true;   // window: interval  -> this run's [data_interval_start, end)
  absl::Duration window_from;       // window: {from: -7d, to: 0d} relative to this run's interval
  absl::Duration window_to;         //   start: [start+from, end+to)
  std::optional<absl::Duration> timeout;
  Location loc;
};

// `sla:` on a DAG / `deadline:` on a task: the run (task) must have finished `within` after the
// anchor. `sla: 2h` is {after: interval_end, within: 2h}.
enum class DeadlineAnchor { kIntervalEnd, kLogicalDate, kRunStart };

struct Deadline {
  DeadlineAnchor after = DeadlineAnchor::kIntervalEnd;
  absl::Duration within;
  Location loc;
};

// `alerts:` entry (also the entries of de-scheduler --alerts-file): the events it fires on and
// exactly one channel. Strings may hold `${ENV}` references, expanded only when sending.
struct AlertSpec {
  // failure task_failure retry success recovered deadline_miss wait_timeout lease_lost
  std::vector<std::string> on;
  std::string webhook;                          // webhook: URL  or  webhook: {url, headers}
  std::map<std::string, std::string> headers;   // webhook headers
  std::string slack;                            // slack: incoming-webhook URL
  std::string pagerduty_routing_key;            // pagerduty: {routing_key, url?}
  std::string pagerduty_url;                    // empty = the public Events API v2 endpoint
  std::vector<std::string> command;             // argv, templated; or empty
  Location loc;

  // "webhook", "slack", "pagerduty" or "command".
  std::string channel() const {
    if (!slack.empty()) return "slack";
    if (!pagerduty_routing_key.empty()) return "pagerduty";
    if (!command.empty()) return "command";
    return "webhook";
  }
};

// A DAG param's declared type (`params: { n: { type: int, default: 3 } }`; the short form
// `params: { who: world }` is a string with that default).
enum class ParamType { kString, kInt, kFloat, kBool, kDate };

struct ParamDecl {
  ParamType type = ParamType::kString;
  bool has_default = true;            // false: every run must give it (--conf), never scheduled
  std::string default_value;          // normalized for the type (bool: true/false)
  std::string description;
  Location loc;
};

struct TaskSpec {
  std::string id;                     // [a-z0-9_]+ (also allows '-'), unique within the DAG
  std::string type;                   // shell noop csv_to_parquet clean aggregate
  std::vector<std::string> needs;     // ids of upstream tasks (all exist, no cycle)
  YAML::Node with;                    // raw `with:` block (templates NOT rendered); Null if absent
  RetryPolicy retry;                  // defaults: merged in
  std::optional<absl::Duration> timeout;
  std::string pool = "default";
  int priority = 0;                   // higher runs first
  bool depends_on_past = false;
  std::optional<Deadline> deadline;
  Location loc;
  // "var.NAME" / "secret.NAME" its `with:` uses (sorted, unique): resolved for each attempt.
  std::vector<std::string> external_refs;
};

// A {{ var.NAME }} or {{ secret.NAME }} in a DAG, with where it is (checked at submit time).
struct ExternalRef {
  std::string name;   // "var.region", "secret.api_key"
  int line = 0;       // 1-based
  int column = 0;
};

struct DagSpec {
  std::string id;                     // [a-z0-9_]+
  std::string description;
  std::string schedule;               // raw expression; empty = manual only (schedule: null / absent)
  std::string timezone = "UTC";       // IANA name, verified loadable
  std::optional<absl::Time> start_date;   // midnight in `timezone` when given as a date
  std::optional<absl::Time> end_date;
  bool catchup = true;
  int max_active_runs = 16;
  int max_active_tasks = 64;
  std::map<std::string, std::string> params;  // defaults (scalars rendered to strings); a param
                                              // without a default is absent here
  std::map<std::string, ParamDecl> param_decls;  // every declared param (common/dag/dag_params.h)
  std::optional<Deadline> sla;
  std::vector<AlertSpec> alerts;
  std::vector<WaitFor> wait_for;
  std::vector<TaskSpec> tasks;        // in a topological order (every task after its needs)
  std::vector<ExternalRef> external_refs;   // every var./secret. reference, in file order
  std::string source;                 // file name it was loaded from
  std::string yaml;                   // the exact text it was loaded from

  const TaskSpec* FindTask(const std::string& task_id) const {
    for (const auto& t : tasks)
      if (t.id == task_id) return &t;
    return nullptr;
  }
};

// Task types the product knows. Validation rejects any other.
inline const std::vector<std::string>& KnownTaskTypes() {
  static const std::vector<std::string> kTypes = {"shell", "noop", "csv_to_parquet", "clean",
                                                  "aggregate"};
  return kTypes;
}

}  // namespace de::dag
