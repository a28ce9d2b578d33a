// Built-in task interface. A built-in task is a function from its `with:` parameters to an
// outcome; the worker runs it in a child process (`de-worker task TYPE ...`), and the same
// function runs when a user calls `de-worker task` by hand. Implementations must be re-entrant.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace de::tasks {

struct TaskContext {
  // Relative paths in parameters resolve against this folder; built-in tasks refuse paths that
  // escape it (after resolving "..").
  std::string data_root = ".";
  // Human log lines (become the task log).
  std::function<void(const std::string&)> log = [](const std::string&) {};
  // Set when the task should stop early (cancel); long loops check it.
  const std::atomic<bool>* cancelled = nullptr;
};

struct TaskOutcome {
  std::map<std::string, int64_t> counters;   // rows_in, rows_out, rows_rejected, files, bytes, ...
  std::vector<std::string> outputs;          // files or folders written
  std::string summary_json;                  // a JSON object describing the result
};

// `with` is the task's parameter map (YAML map; from the DAG's `with:` block or from
// `key=value` arguments). Errors are user-facing: say what and where.
using TaskFn = std::function<absl::StatusOr<TaskOutcome>(const YAML::Node& with,
                                                         const TaskContext& ctx)>;

// The one place where exceptions become task errors naming the task type: from yaml-cpp while
// reading `with:` (InvalidArgument: bad parameters, never retried) and from the standard library
// while running (filesystem, allocation: Internal), so a task never crashes its process on them.
template <typename ParseFn>
auto ParseGuarded(const char* type, ParseFn&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(type, ": bad parameters: ", e.what()));
  }
}
template <typename RunFn>
absl::StatusOr<TaskOutcome> RunGuarded(const char* type, RunFn&& run) {
  try {
    return run();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(type, ": ", e.what()));
  }
}

// Returns the built-in task for `type`, or nullptr. ("shell" is not here: the runner execs it.)
const TaskFn* FindBuiltinTask(const std::string& type);

// Process-wide set-up for running built-in task `type` in this process: the data tasks' batch
// heap tuning (engine/columnar/heap.h; not thread-safe). Called once, first thing, by the
// `de-worker task` process (worker/main.cc); never by the worker daemon, nor by tests that call
// task functions or RunTaskCommand in their own process. A no-op for other types.
void PrepareTaskProcess(const std::string& type);

}  // namespace de::tasks
