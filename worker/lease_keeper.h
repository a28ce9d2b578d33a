// A worker's own view of its attempts' leases, so that it stops them itself when it may have been
// cut off from the scheduler for a lease: by then the scheduler counts them lost and gives them to
// another worker, and two copies of one task instance must never run at once (DESIGN.md 6).
//
// The scheduler renews an attempt's lease when it receives a heartbeat listing it (or the
// Register that keeps it) and answers each heartbeat with a HeartbeatAck. So an attempt's lease
// on the scheduler lasts at least until `sent + lease`, where `sent` is when the worker sent the
// last acknowledged heartbeat (or registration) covering it; a new attempt's lease started just
// before the worker received it. The worker stops the attempt a margin before that (the kill's
// grace included), so the scheduler's copy starts after ours is gone.
//
// A scheduler that restarts gives every attempt a whole lease from its recovery: while every
// connection attempt is refused (nobody listens at any scheduler address, or a standby answers
// that it does not lead yet), nobody can be handing the attempts out, so a refusal extends them as
// a renewal would. A deploy that restarts the
// scheduler does not kill running tasks; a partition (timeouts, silence) does, after the lease.
//
// Pure bookkeeping with the time passed in; not thread-safe (the Agent holds its lock).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "absl/time/time.h"

namespace de::worker {

class LeaseKeeper {
 public:
  // How long before the scheduler's lease ends an attempt is stopped: a quarter of the lease, at
  // most 2.5 s (the kill's 2 s grace and the way to the scheduler).
  static absl::Duration Margin(absl::Duration lease);

  // A session started: the Register sent at `sent` listed `kept` (the scheduler kept them).
  // `acks` = the scheduler answers heartbeats; without that the keeper never stops anything.
  void OnRegistered(absl::Time sent, absl::Duration lease, bool acks,
                    const std::vector<int64_t>& kept);
  void OnAssigned(int64_t attempt_id, absl::Time received);
  // A heartbeat listing every held attempt is sent at `sent`: its sequence number.
  int64_t OnHeartbeatSent(absl::Time sent);
  // The scheduler acknowledged heartbeat `seq` (unknown or old numbers are ignored).
  void OnHeartbeatAck(int64_t seq);
  // Every scheduler address refused the connection at `at`.
  void OnAllRefused(absl::Time at);
  // The attempt finished or was forgotten: it has nothing left to stop.
  void Forget(int64_t attempt_id);

  // The earliest time an attempt must be stopped (InfiniteFuture: none).
  absl::Time NextStop() const;
  // The attempts whose stop time has come.
  std::vector<int64_t> Due(absl::Time now) const;
  // When the session, silent since its last acknowledged heartbeat, counts as dead (the
  // scheduler may be paused, or the network gone quiet): InfiniteFuture when acks are off.
  absl::Time SessionSilentAfter() const;

 private:
  void Renew(absl::Time sent, bool only_received_before);

  bool enabled_ = false;
  absl::Duration lease_ = absl::InfiniteDuration();
  absl::Time last_renewal_ = absl::InfinitePast();   // OnRegistered sets it first
  struct Held {
    absl::Time received;
    absl::Time stop_at;
  };
  std::map<int64_t, Held> held_;
  static constexpr size_t kMaxUnacked = 1024;
  std::map<int64_t, absl::Time> unacked_;   // heartbeat seq -> when it was sent (bounded)
  int64_t next_seq_ = 1;
};

}  // namespace de::worker
