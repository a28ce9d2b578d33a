// Leadership among schedulers that share one PostgreSQL database (issue 12; DESIGN.md section on
// high availability). Each scheduler starts as a standby: it serves reads and refuses changes
// and worker sessions (the Authorizer's ChangeGate), naming the leader. It polls the lease row
// (store/leader_lease.h) and, when the leader's lease expires (killed, cut off, paused), takes it
// with a higher epoch, and only then loads the state and starts scheduling. The leader renews
// its lease; when it cannot (another scheduler took it, or the database is out of reach for a
// lease), or the database refuses one of its writes as fenced, it is deposed: `lost` is called,
// and the daemon restarts itself as a standby. The database, not this class, is what keeps a
// deposed leader from writing (its epoch is refused by every table's fence trigger).
//
//   standby --(lease free or expired: TryAcquire)--> leader --(renew fails / fenced)--> re-exec
//
// Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/auth/authorizer.h"
#include "server/store/leader_lease.h"

namespace de::ha {

struct LeadershipOptions {
  absl::Duration lease = absl::Seconds(5);   // --leader-lease: takeover comes this long after
  std::string address;                       // gRPC address clients and workers should use
  std::string http_address;
};

class Leadership : public auth::ChangeGate {
 public:
  Leadership(std::unique_ptr<store::LeaderLease> lease, LeadershipOptions options);
  ~Leadership() override;

  // The addresses to advertise (known once the servers are bound). Before WaitToLead.
  void SetAddresses(std::string address, std::string http_address);
  // Blocks until this scheduler holds the lease (returns its epoch) or Stop() (returns 0). From
  // then on the lease is renewed on a thread (recovering the state may take longer than a
  // lease); `lost(why)` is called once, from that thread or from a writer refused as fenced
  // (Deposed), when it is lost.
  int64_t WaitToLead(std::function<void(const std::string& why)> lost);
  // Once the state is loaded and scheduling runs: calls that change state are taken.
  void OpenForChanges() { leading_.store(true); }
  // The database refused a write as fenced: deposed at once.
  void Deposed(const std::string& why);
  // Ends WaitToLead or the renewing and, when leading, gives the lease up.
  void Stop();

  bool leading() const { return leading_.load(); }
  std::optional<std::string> RefuseChanges() const override;

 private:
  void RenewLoop(absl::Time acquired);
  absl::Duration Tick() const;
  // Logs who leads when that changes, and keeps it for RefuseChanges.
  void SetLeader(const store::LeaderInfo& info) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const LeadershipOptions options_;

  std::atomic<bool> leading_{false};   // open for changes
  mutable absl::Mutex mu_;
  // Used by one thread at a time: WaitToLead's, then the renewer (and Stop after joining it).
  const std::unique_ptr<store::LeaderLease> lease_;
  std::string address_ ABSL_GUARDED_BY(mu_);
  std::string http_address_ ABSL_GUARDED_BY(mu_);
  std::string leader_ ABSL_GUARDED_BY(mu_);     // who leads, as standbys say it
  std::string leader_address_ ABSL_GUARDED_BY(mu_);
  int64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool lost_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void(const std::string&)> on_lost_ ABSL_GUARDED_BY(mu_);
  std::thread renewer_;
};

}  // namespace de::ha
