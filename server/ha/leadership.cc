#include "server/ha/leadership.h"

#include "absl/strings/str_cat.h"
#include "common/leader_refusal.h"
#include "spdlog/spdlog.h"

namespace de::ha {

Leadership::Leadership(std::unique_ptr<store::LeaderLease> lease, LeadershipOptions options)
    : options_(std::move(options)), lease_(std::move(lease)) {
  address_ = options_.address;
  http_address_ = options_.http_address;
}

Leadership::~Leadership() { Stop(); }

void Leadership::SetAddresses(std::string address, std::string http_address) {
  absl::MutexLock lock(&mu_);
  address_ = std::move(address);
  http_address_ = std::move(http_address);
}

absl::Duration Leadership::Tick() const {
  // Renewals and a standby's polls: a few per lease, and at least every second, so that a lease
  // given up (a leader stopping cleanly) is taken within a second even with a long lease.
  return std::clamp(options_.lease / 4, absl::Milliseconds(50), absl::Seconds(1));
}

void Leadership::SetLeader(const store::LeaderInfo& info) {
  std::string who = info.exists && info.current ? info.holder : "";
  absl::MutexLock lock(&mu_);
  if (who == leader_) return;
  leader_ = who;
  leader_address_ = who.empty() ? "" : info.address;
  if (who.empty()) {
    spdlog::info("standby: no scheduler leads (the last lease has expired); taking over");
  } else {
    spdlog::info("standby: {} at {} leads (epoch {}); this scheduler serves reads and takes over "
                 "within {} of it going away", who, info.address, info.epoch,
                 absl::FormatDuration(options_.lease));
  }
}

int64_t Leadership::WaitToLead(std::function<void(const std::string&)> lost) {
  std::string address, http_address;
  {
    absl::MutexLock lock(&mu_);
    on_lost_ = std::move(lost);
    address = address_;
    http_address = http_address_;
  }
  while (true) {
    const absl::Time started = absl::Now();
    absl::StatusOr<int64_t> got = lease_->TryAcquire(address, http_address);
    if (got.ok() && *got > 0) {
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        lease_->Release(*got);
        return 0;
      }
      epoch_ = *got;
      spdlog::info("leading with epoch {} (leader lease {})", epoch_,
                   absl::FormatDuration(options_.lease));
      renewer_ = std::thread([this, started] { RenewLoop(started); });
      return epoch_;
    }
    if (!got.ok()) {
      spdlog::warn("standby: cannot read the leader lease: {}", got.status().ToString());
    } else if (auto info = lease_->Current(); info.ok()) {
      SetLeader(*info);
    }
    absl::MutexLock lock(&mu_);
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping), Tick())) return 0;
  }
}

void Leadership::RenewLoop(absl::Time acquired) {
  int64_t epoch;
  {
    absl::MutexLock lock(&mu_);
    epoch = epoch_;
  }
  absl::Time renewed = acquired;   // the lease runs from no earlier than this
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || lost_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), Tick())) return;
    }
    const absl::Time started = absl::Now();
    absl::Status st = lease_->Renew(epoch);
    if (st.ok()) {
      renewed = started;
      continue;
    }
    if (absl::IsFailedPrecondition(st)) {
      Deposed(std::string(st.message()));
      return;
    }
    // Out of reach: the lease counts from the start of the last renewal that worked, so this
    // scheduler gives up no later than the database lets a standby take over.
    if (absl::Now() - renewed >= options_.lease) {
      Deposed(absl::StrCat("the leader lease could not be renewed for ",
                           absl::FormatDuration(options_.lease), ": ", st.message()));
      return;
    }
    spdlog::warn("cannot renew the leader lease (gives up after {}): {}",
                 absl::FormatDuration(options_.lease), st.ToString());
  }
}

void Leadership::Deposed(const std::string& why) {
  std::function<void(const std::string&)> cb;
  {
    absl::MutexLock lock(&mu_);
    if (lost_ || epoch_ == 0) return;
    lost_ = true;
    cb = on_lost_;
  }
  leading_.store(false);
  spdlog::error("deposed: {}", why);
  if (cb) cb(why);
}

void Leadership::Stop() {
  int64_t epoch = 0;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (!lost_) epoch = epoch_;
  }
  if (renewer_.joinable()) renewer_.join();
  leading_.store(false);
  if (epoch != 0) {
    lease_->Release(epoch);
    absl::MutexLock lock(&mu_);
    epoch_ = 0;
  }
}

std::optional<std::string> Leadership::RefuseChanges() const {
  if (leading_.load()) return std::nullopt;
  absl::MutexLock lock(&mu_);
  if (epoch_ != 0 && !lost_) {
    return absl::StrCat(common::kTakingOverRefusal, ": try again in a moment");
  }
  if (leader_.empty()) {
    return absl::StrCat(common::kStandbyRefusal, " and no scheduler leads right now (one takes "
                        "over within ", absl::FormatDuration(options_.lease), ")");
  }
  return absl::StrCat(common::kStandbyRefusal, "; the leader is ", leader_, " at ",
                      leader_address_, " (give dectl and workers every scheduler's address)");
}

}  // namespace de::ha
