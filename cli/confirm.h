// Confirmation of destructive dectl commands. Not thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "cli/commands.h"

namespace de::cli {

// `yes` (--yes) confirms at once. Otherwise, on a terminal, asks "QUESTION [y/N] " on stderr
// and reads the answer: true for y or yes. Without a terminal (a script, a pipe) nobody can
// answer: FailedPrecondition saying to pass --yes.
absl::StatusOr<bool> Confirm(Context& ctx, const std::string& question, bool yes);

}  // namespace de::cli
