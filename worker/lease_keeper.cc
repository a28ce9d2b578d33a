#include "worker/lease_keeper.h"

#include <algorithm>

namespace de::worker {

absl::Duration LeaseKeeper::Margin(absl::Duration lease) {
  return std::min(lease / 4, absl::Milliseconds(2500));
}

void LeaseKeeper::OnRegistered(absl::Time sent, absl::Duration lease, bool acks,
                               const std::vector<int64_t>& kept) {
  enabled_ = acks && lease > absl::ZeroDuration() && lease < absl::InfiniteDuration();
  lease_ = lease;
  unacked_.clear();   // the last session's heartbeats are answered by nobody now
  std::map<int64_t, Held> keep;
  for (int64_t id : kept) {
    auto it = held_.find(id);
    keep[id] = it != held_.end() ? it->second : Held{sent, sent};
  }
  held_ = std::move(keep);
  Renew(sent, /*only_received_before=*/false);
}

void LeaseKeeper::OnAssigned(int64_t attempt_id, absl::Time received) {
  held_[attempt_id] = Held{received, received + lease_ - Margin(lease_)};
}

int64_t LeaseKeeper::OnHeartbeatSent(absl::Time sent) {
  if (!enabled_) return 0;   // a scheduler that does not ack: nothing to match
  // One never answered is of no use after a lease: the map stays small however long it waits.
  std::erase_if(unacked_, [&](const auto& kv) { return kv.second + lease_ < sent; });
  while (unacked_.size() >= kMaxUnacked) unacked_.erase(unacked_.begin());
  unacked_[next_seq_] = sent;
  return next_seq_++;
}

void LeaseKeeper::OnHeartbeatAck(int64_t seq) {
  auto it = unacked_.find(seq);
  if (it == unacked_.end()) return;
  const absl::Time sent = it->second;
  unacked_.erase(unacked_.begin(), std::next(it));
  Renew(sent, /*only_received_before=*/true);
}

void LeaseKeeper::OnAllRefused(absl::Time at) { Renew(at, /*only_received_before=*/false); }

void LeaseKeeper::Forget(int64_t attempt_id) { held_.erase(attempt_id); }

void LeaseKeeper::Renew(absl::Time sent, bool only_received_before) {
  last_renewal_ = std::max(last_renewal_, sent);
  const absl::Time stop_at = sent + lease_ - Margin(lease_);
  for (auto& [id, h] : held_) {
    // A heartbeat lists only what the worker held when it was sent.
    if (only_received_before && h.received > sent) continue;
    h.stop_at = std::max(h.stop_at, stop_at);
  }
}

absl::Time LeaseKeeper::NextStop() const {
  absl::Time next = absl::InfiniteFuture();
  if (!enabled_) return next;
  for (const auto& [id, h] : held_) next = std::min(next, h.stop_at);
  return next;
}

std::vector<int64_t> LeaseKeeper::Due(absl::Time now) const {
  std::vector<int64_t> due;
  if (!enabled_) return due;
  for (const auto& [id, h] : held_) {
    if (h.stop_at <= now) due.push_back(id);
  }
  return due;
}

absl::Time LeaseKeeper::SessionSilentAfter() const {
  return enabled_ ? last_renewal_ + lease_ : absl::InfiniteFuture();
}

}  // namespace de::worker
