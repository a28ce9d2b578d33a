// Answers the scheduler's data-arrival probes (a `wait_for:` path or glob of a waiting run): a
// look at the data root on the session's reader thread, with no task slot and no child process.
// Confinement is the built-in tasks' (engine/io/paths.h): the path, and every file a glob finds,
// must resolve inside the data root. Stateless; thread-safe.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "de/v1/worker.pb.h"

namespace de::worker {

// What `probe` finds under `data_root` at `now` (for min_age):
// - path: the file or folder exists -> found 1 (too_new 1 when modified less than min_age ago);
// - glob: found = regular files matching, old enough; names starting with '.' or '_' (files
//   still being written under a temporary name, _SUCCESS) are not counted unless the pattern's
//   last part starts with that character itself.
// A path or match outside the data root is a permanent error; an unreadable folder a passing one.
v1::ProbeResult RunProbe(const v1::Probe& probe, const std::string& data_root, absl::Time now);

}  // namespace de::worker
