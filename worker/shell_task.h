// Turns the `with:` block of a `shell` task into a ProcessSpec. Pure function; thread-safe;
// yaml-cpp exceptions never escape.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "worker/runner.h"
#include "yaml-cpp/yaml.h"

namespace de::worker {

// Accepted keys (anything else is an error, so a typo never goes unnoticed):
//   command: "a shell command line"   -> /bin/sh -c 'command' (args, if any, are appended as
//                                        separate, safely quoted words: "$@")
//   command: [prog, arg, ...]          -> argv as given (no shell)
//   args:    [word, ...]               appended to the command (scalars only)
//   env:     {NAME: value, ...}        added to the worker's environment (scalars only)
//   cwd:     dir                       working directory; relative to `base_dir` when given
// `with` must already have its templates rendered. The timeout is the task's, not set here.
absl::StatusOr<ProcessSpec> ShellTaskSpec(const YAML::Node& with, std::string_view base_dir = "");

}  // namespace de::worker
