#include <gtest/gtest.h>

#include "worker/agent.h"

namespace de::worker {
namespace {

// A worker's pause between connection attempts keeps it inside the scheduler's lease.
TEST(ReconnectBackoffCap, IsAQuarterOfTheLeaseAtMost) {
  EXPECT_EQ(ReconnectBackoffCap(absl::Seconds(5), absl::Seconds(10)), absl::Milliseconds(2500));
  EXPECT_EQ(ReconnectBackoffCap(absl::Seconds(5), absl::Milliseconds(1500)),
            absl::Milliseconds(375));
  EXPECT_EQ(ReconnectBackoffCap(absl::Seconds(5), absl::Minutes(5)), absl::Seconds(5));
  // Before the first RegisterAck the lease is unknown: the configured cap applies.
  EXPECT_EQ(ReconnectBackoffCap(absl::Seconds(5), absl::InfiniteDuration()), absl::Seconds(5));
  EXPECT_EQ(ReconnectBackoffCap(absl::Seconds(5), absl::Milliseconds(40)),
            absl::Milliseconds(50));
}

}  // namespace
}  // namespace de::worker
