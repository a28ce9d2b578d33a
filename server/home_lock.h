// One scheduler per DE_HOME: an exclusive flock on DE_HOME/scheduler.lock, held for the life of
// the process (the kernel releases it when the process dies, however it dies). The file names the
// holder ("pid PID on HOST") so a refused second scheduler can say who holds the home.
// Not thread-safe; acquire once at startup, before the database is opened.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace de::server {

// Takes the lock on `home` or returns FailedPrecondition naming the holder's pid and host.
// On success the lock's descriptor stays open until the process exits.
absl::Status LockHome(const std::string& home);

}  // namespace de::server
