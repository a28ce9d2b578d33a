// `de-worker task TYPE [key=value ...] [--params-file F] [--result-file F] [--data-root DIR]`:
// runs one built-in task in the foreground (the same code the scheduler's dispatch runs in a
// child process), prints a human result and optionally writes a JSON result file.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "yaml-cpp/yaml.h"

namespace de::worker {

// argv[1] is "task". Returns the process exit code: 0 success, 1 task error, 2 usage error.
int RunTaskCommand(int argc, char** argv);

// False for errors that retrying cannot fix: bad parameters (InvalidArgument), an input outside
// the data root (PermissionDenied), a schema mismatch (FailedPrecondition), OutOfRange.
bool IsRetryableTaskError(const absl::Status& status);

// Parses the value of a `key=value` argument for task `type`. The declared type of `key`
// (common/dag/task_params.h) decides: a scalar parameter (string, enum, int, size, expression,
// ...) keeps the text exactly as typed, so `on_error=null` is the string "null"; a list, map or
// structure is read as YAML (so `[a, b]` and `{c: int32}` work), and anything YAML cannot read,
// or a map/list not written in flow brackets, stays a plain string. Undeclared keys are read as
// YAML the same way (validation then reports them).
YAML::Node ParseTaskArgValue(const std::string& type, const std::string& key,
                             const std::string& value);

}  // namespace de::worker
