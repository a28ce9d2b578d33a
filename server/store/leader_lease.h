// The leader lease of schedulers that share one PostgreSQL database: one row, de_leader
// (migrations/postgres/0008_leader.sql), holding who leads, where it listens, its fencing epoch
// and until when (the database's clock, so the schedulers' clocks need not agree). A scheduler
// takes the lease when it is free or has expired, raising the epoch; it then renews it; every
// connection of the leader writes with that epoch and the database refuses writes of any other
// (db.h, SetWriteEpoch). Takeover is serialised with writes in flight by the write lock.
// Not thread-safe: one thread (server/ha/leadership.h) uses it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/store/db.h"

namespace de::store {

struct LeaderInfo {
  bool exists = false;        // a scheduler has ever led
  std::string holder;
  std::string address;        // its gRPC address
  std::string http_address;
  int64_t epoch = 0;
  bool current = false;       // its lease has not expired
};

class LeaderLease {
 public:
  // Its own connection to `url`. `holder` names this process (unique per start).
  static absl::StatusOr<std::unique_ptr<LeaderLease>> Open(const std::string& url,
                                                           std::string holder,
                                                           absl::Duration lease);

  // Takes the lease if no scheduler holds a current one: returns the new epoch, or 0 when
  // another scheduler leads.
  absl::StatusOr<int64_t> TryAcquire(const std::string& address, const std::string& http_address);
  // Extends the lease held with `epoch` by a lease from now; FailedPrecondition naming the new
  // leader when another scheduler has taken it.
  absl::Status Renew(int64_t epoch);
  // Ends the lease held with `epoch` at once (a clean shutdown), so a standby need not wait.
  void Release(int64_t epoch);
  absl::StatusOr<LeaderInfo> Current();

  const std::string& holder() const { return holder_; }

 private:
  LeaderLease(std::unique_ptr<Db> db, std::string holder, absl::Duration lease)
      : db_(std::move(db)), holder_(std::move(holder)), lease_ms_(absl::ToInt64Milliseconds(lease)) {}

  const std::unique_ptr<Db> db_;
  const std::string holder_;
  const int64_t lease_ms_;
};

}  // namespace de::store
