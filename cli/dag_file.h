// Reading a DAG file for the offline commands that need its model (dag test, dag render): the
// same loader as `dectl dag validate` and the scheduler, errors as "file:line:column: message".
// Pure functions over the file system; thread-compatible.
#pragma once

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "common/dag/dag.h"

namespace de::cli {

// Reads and validates `path`. Warnings go to `warnings` ("file:line:col: warning: ..."). On an
// invalid DAG, InvalidArgument whose message is every error, one "file:line:col: ..." per line;
// NotFound when the file cannot be read.
absl::StatusOr<dag::DagSpec> LoadDagFile(const std::string& path, std::ostream& warnings);

// Prints LoadDagFile's error to `err` as it is (one diagnostic a line); returns kExitFailed.
int PrintLoadError(const absl::Status& status, std::ostream& err);

}  // namespace de::cli
