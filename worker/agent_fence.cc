// The worker's own fence (worker/lease_keeper.h): stops the attempts the scheduler may already
// have given to another worker, and leaves a session that has gone silent for a lease.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "worker/agent.h"

namespace de::worker {

void Agent::FenceLoop() {
  absl::MutexLock lock(&mu_);
  while (!fence_stop_) {
    // Stop times only move later, except for new attempts: a short poll picks those up.
    absl::Time next = std::min(leases_.NextStop(), absl::Now() + absl::Milliseconds(250));
    if (session_ctx_ != nullptr && session_ctx_ != silenced_ctx_) {
      next = std::min(next, leases_.SessionSilentAfter());
    }
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return fence_stop_; };
    mu_.AwaitWithDeadline(absl::Condition(&stop), next);
    if (!fence_stop_) FenceDue(absl::Now());
  }
}

void Agent::FenceDue(absl::Time now) {
  const absl::Duration lease = lease_;
  for (int64_t id : leases_.Due(now)) {
    auto it = attempts_.find(id);
    if (it == attempts_.end() || it->second->finished) {
      leases_.Forget(id);
      continue;
    }
    const v1::Assignment& a = it->second->assignment;
    spdlog::error("dag={} run={} task={} attempt={}: no word from the scheduler for most of its "
                  "lease ({}s); stopping it, as the scheduler counts it lost and runs it again",
                  a.dag_id(), a.run_id(), a.task_id(), id, absl::ToDoubleSeconds(lease));
    it->second->cancel_requested = true;
    if (it->second->child) it->second->child->Cancel();
    Forget(id);
  }
  if (session_ctx_ != nullptr && session_ctx_ != silenced_ctx_ &&
      now >= leases_.SessionSilentAfter()) {
    // A scheduler that answers nothing (paused, or the network dropping our packets): go on to
    // the next address, where a standby may be leading by now.
    spdlog::warn("scheduler {} silent for a lease ({}s); reconnecting", options_.scheduler,
                 absl::ToDoubleSeconds(lease));
    silenced_ctx_ = session_ctx_;
    session_ctx_->TryCancel();
  }
}

}  // namespace de::worker
