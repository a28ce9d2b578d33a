#include "cli/reconnect.h"

#include <algorithm>
#include <thread>

namespace de::cli {

bool IsSchedulerAway(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
      return true;
    default:
      return false;
  }
}

Reconnector::Reconnector(Context& ctx, absl::Duration wait_timeout)
    : ctx_(ctx),
      deadline_(wait_timeout > absl::ZeroDuration() ? absl::Now() + wait_timeout
                                                    : absl::InfiniteFuture()) {}

bool Reconnector::TimedOut() const { return absl::Now() >= deadline_; }

void Reconnector::Pause() const {
  absl::Duration pause = std::min(ctx_.io.poll_interval, std::max(deadline_ - absl::Now(),
                                                                  absl::ZeroDuration()));
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(pause));
}

bool Reconnector::Retry(const grpc::Status& status) {
  if (!IsSchedulerAway(status) || TimedOut()) return false;
  if (!away_) {
    ctx_.err() << "scheduler unavailable, reconnecting...\n";
    ctx_.err().flush();
    away_ = true;
  }
  Pause();
  ctx_.client().Reconnect();
  return true;
}

}  // namespace de::cli
