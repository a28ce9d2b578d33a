#include "server/store/leader_lease.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace de::store {
namespace {

// Milliseconds since the epoch by the database's clock (not the transaction's start).
constexpr char kNowMs[] = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

}  // namespace

absl::StatusOr<std::unique_ptr<LeaderLease>> LeaderLease::Open(const std::string& url,
                                                               std::string holder,
                                                               absl::Duration lease) {
  DE_ASSIGN_OR_RETURN(auto db, Db::Open(url));
  if (db->dialect() != Dialect::kPostgres) {
    return absl::InvalidArgumentError("a leader lease needs a PostgreSQL store");
  }
  return std::unique_ptr<LeaderLease>(new LeaderLease(std::move(db), std::move(holder), lease));
}

absl::StatusOr<int64_t> LeaderLease::TryAcquire(const std::string& address,
                                                const std::string& http_address) {
  // The write lock: a takeover waits for the old leader's transaction in flight, and its
  // later ones see the new epoch.
  Transaction tx(db_.get());
  DE_RETURN_IF_ERROR(tx.status());
  DE_ASSIGN_OR_RETURN(auto cur, db_->Prepare(absl::StrCat(
      "SELECT epoch, expires_at_ms > ", kNowMs, ", holder FROM de_leader WHERE id = 1 FOR UPDATE")));
  DE_ASSIGN_OR_RETURN(bool row, cur->Step());
  int64_t epoch = 1;
  if (row) {
    // Another scheduler's lease is current, unless it was this scheduler's own previous life
    // (the same host and DE_HOME, which this process has locked: that one is gone).
    if (cur->Int(1) != 0 && cur->Text(2) != holder_) return 0;
    epoch = cur->Int(0) + 1;
  }
  DE_ASSIGN_OR_RETURN(auto put, db_->Prepare(absl::StrCat(
      "INSERT INTO de_leader (id, holder, address, http_address, epoch, expires_at_ms, since_ms) "
      "VALUES (1, ?, ?, ?, ?, ", kNowMs, " + ?, ", kNowMs, ") ON CONFLICT (id) DO UPDATE SET "
      "holder = excluded.holder, address = excluded.address, http_address = "
      "excluded.http_address, epoch = excluded.epoch, expires_at_ms = excluded.expires_at_ms, "
      "since_ms = excluded.since_ms")));
  put->Bind(1, holder_).Bind(2, address).Bind(3, http_address).Bind(4, epoch).Bind(5, lease_ms_);
  DE_RETURN_IF_ERROR(put->Run());
  DE_RETURN_IF_ERROR(tx.Commit());
  return epoch;
}

absl::Status LeaderLease::Renew(int64_t epoch) {
  Stmt& s = db_->Cached(absl::StrCat("UPDATE de_leader SET expires_at_ms = ", kNowMs,
                                     " + ? WHERE id = 1 AND epoch = ? AND holder = ?"));
  s.Bind(1, lease_ms_).Bind(2, epoch).Bind(3, holder_);
  DE_RETURN_IF_ERROR(s.Run());
  if (db_->Changes() == 1) return absl::OkStatus();
  DE_ASSIGN_OR_RETURN(LeaderInfo now, Current());
  return absl::FailedPreconditionError(absl::StrCat(
      "another scheduler leads now: ", now.exists ? now.holder : "none", " at ",
      now.exists ? now.address : "-", " (epoch ", now.epoch, "; this one led with epoch ", epoch,
      ")"));
}

void LeaderLease::Release(int64_t epoch) {
  Stmt& s = db_->Cached("UPDATE de_leader SET expires_at_ms = 0 WHERE id = 1 AND epoch = ? "
                        "AND holder = ?");
  (void)s.Bind(1, epoch).Bind(2, holder_).Run();
}

absl::StatusOr<LeaderInfo> LeaderLease::Current() {
  DE_ASSIGN_OR_RETURN(auto s, db_->Prepare(absl::StrCat(
      "SELECT holder, address, http_address, epoch, expires_at_ms > ", kNowMs,
      " FROM de_leader WHERE id = 1")));
  DE_ASSIGN_OR_RETURN(bool row, s->Step());
  LeaderInfo info;
  if (!row) return info;
  info.exists = true;
  info.holder = s->Text(0);
  info.address = s->Text(1);
  info.http_address = s->Text(2);
  info.epoch = s->Int(3);
  info.current = s->Int(4) != 0;
  return info;
}

}  // namespace de::store
