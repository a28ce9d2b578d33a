// The leader lease and the database's fence (migrations/postgres/0008_leader.sql), on a real
// PostgreSQL: one holder at a time, takeover only after expiry (or a release), the epoch raised
// at every takeover, and a deposed leader's writes refused by the database with the fenced
// handler called, whatever statement or transaction they come in.
#include "server/store/leader_lease.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/store.h"
#include "tests/unit/server/store_backend.h"
#include "tests/unit/server/test_util.h"

namespace de::store {
namespace {

using ::de::testing_util::QueryInt;
using ::de::testing_util::TempDir;
using ::testing::HasSubstr;

int g_fenced_calls = 0;
void CountFenced() { ++g_fenced_calls; }

class LeaderLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    url_ = testing_util::FreshLocation(testing_util::Backend::kPostgres, dir_, &skip);
    DE_SKIP_UNLESS_LOCATION(url_, skip);
    auto store = Store::Open(url_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    g_fenced_calls = 0;
    SetFencedHandler(&CountFenced);
  }
  void TearDown() override {
    SetWriteEpoch(0);
    SetFencedHandler(nullptr);
  }
  std::unique_ptr<LeaderLease> Lease(const std::string& holder, absl::Duration lease) {
    auto l = LeaderLease::Open(url_, holder, lease);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? std::move(*l) : nullptr;
  }
  absl::Status SetVariable(const std::string& name) {
    return store_->db()->Cached("INSERT INTO variables (name, value, updated_at) VALUES (?, 'v', 0)")
        .Bind(1, name).Run();
  }

  TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

TEST_F(LeaderLeaseTest, OneHolderAtATimeAndTheEpochRisesAtEveryTakeover) {
  auto one = Lease("one", absl::Seconds(30));
  auto two = Lease("two", absl::Seconds(30));
  ASSERT_TRUE(one && two);
  EXPECT_EQ(*one->TryAcquire("a:1", "a:2"), 1);
  EXPECT_EQ(*two->TryAcquire("b:1", "b:2"), 0) << "a current lease is not taken";
  auto info = two->Current();
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->current);
  EXPECT_EQ(info->holder, "one");
  EXPECT_EQ(info->address, "a:1");
  ASSERT_TRUE(one->Renew(1).ok());
  one->Release(1);   // a clean stop: taken at once
  EXPECT_EQ(*two->TryAcquire("b:1", "b:2"), 2);
  absl::Status renew = one->Renew(1);
  EXPECT_EQ(renew.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(renew.message()), HasSubstr("another scheduler leads now: two at b:1"));
  // The same holder's previous life (a restart on the same host and home) takes it back at once.
  auto two_again = Lease("two", absl::Seconds(30));
  EXPECT_EQ(*two_again->TryAcquire("b:1", "b:2"), 3);
}

TEST_F(LeaderLeaseTest, AnExpiredLeaseIsTaken) {
  auto one = Lease("one", absl::Milliseconds(200));
  auto two = Lease("two", absl::Milliseconds(200));
  ASSERT_TRUE(one && two);
  ASSERT_EQ(*one->TryAcquire("a", "a"), 1);
  int64_t got = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (got == 0 && absl::Now() < deadline) got = *two->TryAcquire("b", "b");
  EXPECT_EQ(got, 2);
}

TEST_F(LeaderLeaseTest, TheDatabaseRefusesTheWritesOfADeposedLeader) {
  auto one = Lease("one", absl::Seconds(30));
  auto two = Lease("two", absl::Seconds(30));
  ASSERT_TRUE(one && two);
  ASSERT_EQ(*one->TryAcquire("a", "a"), 1);
  SetWriteEpoch(1);
  ASSERT_TRUE(SetVariable("while-leading").ok());
  {
    Transaction tx(store_->db());   // in a transaction as well: fenced once, then taken
    ASSERT_TRUE(tx.status().ok());
    ASSERT_TRUE(SetVariable("in-flight").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  one->Release(1);
  ASSERT_EQ(*two->TryAcquire("b", "b"), 2);

  absl::Status late = SetVariable("late");
  EXPECT_EQ(late.code(), absl::StatusCode::kUnavailable) << late;
  EXPECT_THAT(std::string(late.message()), HasSubstr("fenced"));
  EXPECT_EQ(g_fenced_calls, 1);
  {
    Transaction tx(store_->db());
    ASSERT_TRUE(tx.status().ok());
    EXPECT_FALSE(SetVariable("late-in-tx").ok());
    EXPECT_FALSE(tx.Commit().ok());
  }
  EXPECT_EQ(g_fenced_calls, 2);
  // A standby (-1) writes nothing either; the new leader's epoch writes.
  SetWriteEpoch(-1);
  EXPECT_FALSE(SetVariable("standby").ok());
  SetWriteEpoch(2);
  ASSERT_TRUE(SetVariable("new-leader").ok());
  EXPECT_EQ(QueryInt(store_->db(), "SELECT count(*) FROM variables"), 3);
  EXPECT_EQ(QueryInt(store_->db(), "SELECT count(*) FROM variables WHERE name LIKE 'late%'"), 0);
}

}  // namespace
}  // namespace de::store
