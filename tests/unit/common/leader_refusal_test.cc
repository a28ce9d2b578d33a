#include "common/leader_refusal.h"

#include <gtest/gtest.h>

#include <string>

namespace de::common {
namespace {

TEST(LeaderRefusal, RecognisesTheRefusalsOfASchedulerThatDoesNotLead) {
  EXPECT_TRUE(IsNotLeadingRefusal(std::string(kStandbyRefusal) +
                                  "; the leader is b at 127.0.0.1:7071 (give dectl ...)"));
  EXPECT_TRUE(IsNotLeadingRefusal(std::string("UNAVAILABLE: ") + kTakingOverRefusal +
                                  ": try again in a moment"));
  EXPECT_FALSE(IsNotLeadingRefusal("failed to connect to all addresses; Connection refused"));
  EXPECT_FALSE(IsNotLeadingRefusal("a worker named 'w1' is already connected"));
}

}  // namespace
}  // namespace de::common
