// The transition tables: every legal edge is accepted, every other pair refused; names round-trip.
#include "server/sched/states.h"

#include <set>
#include <utility>

#include "gtest/gtest.h"

namespace de::sched {
namespace {

constexpr RunState kRunStates[] = {RunState::kWaiting, RunState::kQueued, RunState::kRunning,
                                   RunState::kSuccess, RunState::kFailed, RunState::kCancelled};
constexpr TiState kTiStates[] = {TiState::kScheduled,      TiState::kQueued,  TiState::kRunning,
                                 TiState::kSuccess,        TiState::kFailed,  TiState::kUpForRetry,
                                 TiState::kUpstreamFailed, TiState::kSkipped, TiState::kCancelled};

TEST(StatesTest, RunTableAcceptsExactlyTheDocumentedEdges) {
  using R = RunState;
  const std::set<std::pair<R, R>> legal = {
      {R::kWaiting, R::kQueued},    {R::kWaiting, R::kFailed},   {R::kWaiting, R::kCancelled},
      {R::kQueued, R::kRunning},    {R::kQueued, R::kCancelled}, {R::kQueued, R::kFailed},
      {R::kQueued, R::kSuccess},    {R::kRunning, R::kSuccess},  {R::kRunning, R::kFailed},
      {R::kRunning, R::kCancelled}, {R::kSuccess, R::kQueued},   {R::kFailed, R::kQueued},
      {R::kCancelled, R::kQueued}};
  int refused = 0;
  for (R from : kRunStates) {
    for (R to : kRunStates) {
      EXPECT_EQ(IsLegal(from, to), legal.count({from, to}) == 1)
          << Name(from) << " -> " << Name(to);
      refused += !IsLegal(from, to);
    }
  }
  EXPECT_EQ(refused, 36 - static_cast<int>(legal.size()));
  // Nothing goes back to waiting, and no state moves to itself.
  for (R s : kRunStates) {
    EXPECT_FALSE(IsLegal(s, R::kWaiting)) << Name(s);
    EXPECT_FALSE(IsLegal(s, s)) << Name(s);
  }
}

TEST(StatesTest, TaskTableAcceptsExactlyTheDocumentedEdges) {
  using T = TiState;
  const std::set<std::pair<T, T>> legal = {{T::kScheduled, T::kQueued},
                                           {T::kScheduled, T::kUpstreamFailed},
                                           {T::kScheduled, T::kSkipped},
                                           {T::kScheduled, T::kCancelled},
                                           {T::kQueued, T::kRunning},
                                           {T::kQueued, T::kCancelled},
                                           {T::kQueued, T::kFailed},
                                           {T::kQueued, T::kUpstreamFailed},
                                           {T::kRunning, T::kSuccess},
                                           {T::kRunning, T::kFailed},
                                           {T::kRunning, T::kUpForRetry},
                                           {T::kRunning, T::kCancelled},
                                           {T::kRunning, T::kSkipped},   // for_each, no items
                                           {T::kRunning, T::kQueued},
                                           {T::kUpForRetry, T::kQueued},
                                           {T::kUpForRetry, T::kCancelled},
                                           {T::kUpForRetry, T::kScheduled},
                                           {T::kUpForRetry, T::kUpstreamFailed},
                                           {T::kSuccess, T::kScheduled},
                                           {T::kFailed, T::kScheduled},
                                           {T::kUpstreamFailed, T::kScheduled},
                                           {T::kSkipped, T::kScheduled},
                                           {T::kCancelled, T::kScheduled}};
  int refused = 0;
  for (T from : kTiStates) {
    for (T to : kTiStates) {
      EXPECT_EQ(IsLegal(from, to), legal.count({from, to}) == 1)
          << Name(from) << " -> " << Name(to);
      refused += !IsLegal(from, to);
    }
  }
  EXPECT_EQ(refused, 81 - static_cast<int>(legal.size()));
  // A finished task never runs again without being cleared (back to scheduled).
  for (T s : kTiStates) {
    if (!IsFinished(s)) continue;
    for (T to : kTiStates) {
      if (to != T::kScheduled) EXPECT_FALSE(IsLegal(s, to)) << Name(s) << " -> " << Name(to);
    }
  }
}

TEST(StatesTest, NamesRoundTripAndUnknownNamesAreRejected) {
  for (RunState s : kRunStates) EXPECT_EQ(ParseRunState(Name(s)), s);
  for (TiState s : kTiStates) EXPECT_EQ(ParseTiState(Name(s)), s);
  EXPECT_EQ(ParseRunState("up_for_retry"), std::nullopt);
  EXPECT_EQ(ParseTiState("waiting"), std::nullopt);
  EXPECT_EQ(ParseTiState(""), std::nullopt);
  EXPECT_STREQ(Name(TiState::kUpForRetry), "up_for_retry");
  EXPECT_STREQ(Name(RunState::kCancelled), "cancelled");
}

TEST(StatesTest, Groups) {
  EXPECT_TRUE(IsActive(RunState::kWaiting));
  EXPECT_TRUE(IsFinished(RunState::kCancelled));
  EXPECT_FALSE(IsFinished(TiState::kUpForRetry));
  EXPECT_TRUE(IsFinished(TiState::kUpstreamFailed));
  EXPECT_TRUE(IsSatisfying(TiState::kSkipped));
  EXPECT_FALSE(IsSatisfying(TiState::kFailed));
  EXPECT_TRUE(IsFailedLike(TiState::kUpstreamFailed));
  EXPECT_FALSE(IsFailedLike(TiState::kCancelled));
}

}  // namespace
}  // namespace de::sched
