// How dectl's follow loops (`trigger --wait`, `logs -f`) ride out a scheduler that restarts:
// calls that fail because the scheduler is away (unreachable, shutting down, not answering) are
// retried for as long as it takes, or until --wait-timeout; the user is told once per outage.
// Not thread-safe (one loop uses one).
#pragma once

#include "absl/time/time.h"
#include "cli/commands.h"
#include "grpcpp/grpcpp.h"

namespace de::cli {

// True for the statuses a scheduler restart produces: UNAVAILABLE (not listening), CANCELLED
// (a call cut by a graceful shutdown), DEADLINE_EXCEEDED (not answering yet), ABORTED.
bool IsSchedulerAway(const grpc::Status& status);

class Reconnector {
 public:
  // `wait_timeout` zero = no limit.
  Reconnector(Context& ctx, absl::Duration wait_timeout);

  // After a failed call: when `status` means the scheduler is away and the wait has not timed
  // out, prints "scheduler unavailable, reconnecting..." to stderr (once per outage), pauses
  // one poll interval, re-reads the scheduler's address (if it came from DE_HOME) and returns
  // true: call again. Otherwise returns false: the caller reports `status`.
  bool Retry(const grpc::Status& status);
  // A call succeeded: the next outage is announced again.
  void Connected() { away_ = false; }
  // Whether --wait-timeout has passed.
  bool TimedOut() const;
  // Pauses one poll interval (between polls of a live follow).
  void Pause() const;

 private:
  Context& ctx_;
  const absl::Time deadline_;
  bool away_ = false;
};

}  // namespace de::cli
