// The worker's view of its attempts' leases: when it must stop them itself.
#include "worker/lease_keeper.h"

#include <gtest/gtest.h>

namespace de::worker {
namespace {

const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
const absl::Duration kLease = absl::Seconds(10);

TEST(LeaseKeeper, StopsAnAttemptAMarginBeforeTheSchedulersLeaseEnds) {
  EXPECT_EQ(LeaseKeeper::Margin(kLease), absl::Milliseconds(2500));
  EXPECT_EQ(LeaseKeeper::Margin(absl::Seconds(2)), absl::Milliseconds(500));
  LeaseKeeper k;
  k.OnRegistered(t0, kLease, /*acks=*/true, {});
  k.OnAssigned(7, t0 + absl::Seconds(1));
  EXPECT_EQ(k.NextStop(), t0 + absl::Milliseconds(8500));
  EXPECT_TRUE(k.Due(t0 + absl::Milliseconds(8499)).empty());
  EXPECT_EQ(k.Due(t0 + absl::Milliseconds(8500)), std::vector<int64_t>{7});
}

TEST(LeaseKeeper, AnAcknowledgedHeartbeatRenewsFromWhenItWasSent) {
  LeaseKeeper k;
  k.OnRegistered(t0, kLease, true, {});
  k.OnAssigned(7, t0);
  const int64_t seq = k.OnHeartbeatSent(t0 + absl::Seconds(2));
  k.OnAssigned(8, t0 + absl::Seconds(3));   // after the heartbeat: not listed in it
  k.OnHeartbeatAck(seq);
  // 7 from the heartbeat's send time (not the ack's arrival), 8 still from its assignment.
  EXPECT_TRUE(k.Due(t0 + absl::Milliseconds(9499)).empty());
  EXPECT_EQ(k.Due(t0 + absl::Milliseconds(9500)), std::vector<int64_t>{7});
  EXPECT_EQ(k.Due(t0 + absl::Milliseconds(10500)), (std::vector<int64_t>{7, 8}));
  EXPECT_EQ(k.SessionSilentAfter(), t0 + absl::Seconds(12));
}

TEST(LeaseKeeper, UnansweredHeartbeatsRenewNothing) {
  LeaseKeeper k;
  k.OnRegistered(t0, kLease, true, {});
  k.OnAssigned(7, t0);
  for (int i = 1; i <= 20; ++i) k.OnHeartbeatSent(t0 + absl::Seconds(i));
  k.OnHeartbeatAck(999);   // not one of ours
  EXPECT_EQ(k.Due(t0 + absl::Milliseconds(7500)), std::vector<int64_t>{7});
  EXPECT_EQ(k.SessionSilentAfter(), t0 + kLease);
}

TEST(LeaseKeeper, AnOlderAckAfterANewerOneDoesNotMoveTheStopBack) {
  LeaseKeeper k;
  k.OnRegistered(t0, kLease, true, {});
  k.OnAssigned(7, t0);
  const int64_t a = k.OnHeartbeatSent(t0 + absl::Seconds(1));
  const int64_t b = k.OnHeartbeatSent(t0 + absl::Seconds(2));
  k.OnHeartbeatAck(b);
  k.OnHeartbeatAck(a);   // already consumed by b's ack
  EXPECT_EQ(k.NextStop(), t0 + absl::Milliseconds(9500));
}

TEST(LeaseKeeper, RefusedConnectionsMeanNobodyCanGiveTheAttemptsAway) {
  // A scheduler that restarts gives every attempt a whole lease from its recovery; while nobody
  // listens, the attempts keep running however long the restart takes.
  LeaseKeeper k;
  k.OnRegistered(t0, kLease, true, {});
  k.OnAssigned(7, t0);
  k.OnAllRefused(t0 + absl::Seconds(30));
  EXPECT_TRUE(k.Due(t0 + absl::Seconds(37)).empty());
  EXPECT_EQ(k.Due(t0 + absl::Milliseconds(37500)), std::vector<int64_t>{7});
}

TEST(LeaseKeeper, ANewSessionRenewsWhatTheSchedulerKeptAndDropsTheRest) {
  LeaseKeeper k;
  k.OnRegistered(t0, kLease, true, {});
  k.OnAssigned(7, t0);
  k.OnAssigned(8, t0);
  const int64_t old_seq = k.OnHeartbeatSent(t0 + absl::Seconds(1));
  k.OnRegistered(t0 + absl::Seconds(5), kLease, true, {8});
  k.OnHeartbeatAck(old_seq);   // the old session's: nobody answers it now, ignored
  EXPECT_EQ(k.NextStop(), t0 + absl::Milliseconds(12500));
  EXPECT_EQ(k.Due(t0 + absl::Seconds(20)), std::vector<int64_t>{8});
}

TEST(LeaseKeeper, ASchedulerThatDoesNotAckHeartbeatsNeverStopsAnything) {
  LeaseKeeper k;
  k.OnRegistered(t0, kLease, /*acks=*/false, {});
  k.OnAssigned(7, t0);
  EXPECT_EQ(k.NextStop(), absl::InfiniteFuture());
  EXPECT_TRUE(k.Due(t0 + absl::Hours(1)).empty());
  EXPECT_EQ(k.SessionSilentAfter(), absl::InfiniteFuture());
}

TEST(LeaseKeeper, UnansweredHeartbeatsAreNotKeptForever) {
  LeaseKeeper off;   // a scheduler that does not ack: nothing is recorded
  off.OnRegistered(t0, kLease, /*acks=*/false, {});
  EXPECT_EQ(off.OnHeartbeatSent(t0), 0);
  LeaseKeeper k;
  k.OnRegistered(t0, absl::Hours(24 * 365), true, {});
  k.OnAssigned(7, t0);
  int64_t first = k.OnHeartbeatSent(t0 + absl::Seconds(1));
  for (int i = 2; i < 5000; ++i) k.OnHeartbeatSent(t0 + absl::Seconds(i));
  k.OnHeartbeatAck(first);   // long dropped: it renews nothing
  EXPECT_EQ(k.NextStop(), t0 + absl::Hours(24 * 365) - absl::Milliseconds(2500));
}

TEST(LeaseKeeper, AForgottenAttemptIsNotStopped) {
  LeaseKeeper k;
  k.OnRegistered(t0, kLease, true, {});
  k.OnAssigned(7, t0);
  k.Forget(7);
  EXPECT_TRUE(k.Due(t0 + absl::Hours(1)).empty());
}

}  // namespace
}  // namespace de::worker
