// One scheduler per PostgreSQL store: the scheduler holds a session advisory lock on its own
// connection for as long as it runs (the DE_HOME flock does not reach a second machine). A
// second scheduler on the same database is refused at startup. The lock goes with the
// connection: if that connection is cut, it is released (a leader lease with fencing, so that
// a deposed scheduler's writes are refused, is not implemented yet).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/store/db.h"

namespace de::store {

// Opens a connection to `url` holding the scheduler lock, or FailedPrecondition when another
// scheduler holds it.
absl::StatusOr<std::unique_ptr<Db>> HoldSchedulerLock(const std::string& url);

}  // namespace de::store
