// `de-worker task TYPE [key=value ...] [--params-file F] [--result-file F] [--data-root DIR]`:
// runs one built-in task in the foreground (the same code the scheduler's dispatch runs in a
// child process), prints a human result and optionally writes a JSON result file.
#pragma once

#include <string>

#include "yaml-cpp/yaml.h"

namespace de::worker {

// argv[1] is "task". Returns the process exit code: 0 success, 1 task error, 2 usage error.
int RunTaskCommand(int argc, char** argv);

// Parses a `key=value` value as YAML (so `[a, b]` and `{c: int32}` work); anything YAML cannot
// read, or a map/list not written in flow brackets, stays a plain string.
YAML::Node ParseTaskArgValue(const std::string& value);

}  // namespace de::worker
