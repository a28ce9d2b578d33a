// Worker sessions beyond the state machine: one live session per worker name, results
// acknowledged only once committed (exactly-once delivery), the stored log size a reconnecting
// worker resends from, and the scheduler's own log cap.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/server/scheduler_fixture.h"

namespace de::sched {
namespace {

using ::testing::HasSubstr;

// The scheduler fixture under its own suite name (a fixture is one class per suite).
class WorkerSessionTest : public SchedulerTest {};

std::vector<v1::ResultAck> ResultAcks(const FakeChannel& ch) {
  std::vector<v1::ResultAck> out;
  for (const auto& m : ch.sent) {
    if (m.has_result_ack()) out.push_back(m.result_ack());
  }
  return out;
}

TEST_F(WorkerSessionTest, SecondLiveSessionWithTheSameNameIsRefused) {
  ASSERT_OK(Connect("w1").status());
  std::shared_ptr<FakeChannel> first = workers_["w1"].channel;
  clock_.Advance(absl::Seconds(4));   // live: heard from within min(lease / 2, 3 heartbeats)
  auto twin = Connect("w1");
  ASSERT_EQ(twin.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(twin.status().message(), HasSubstr("already connected"));
  EXPECT_THAT(twin.status().message(), HasSubstr("its own --name"));
  EXPECT_EQ(first->closed, 0) << "the live session keeps its place";
  // Its heartbeats keep it fresh: still refused later.
  Heartbeat("w1", {});
  clock_.Advance(absl::Seconds(4));
  EXPECT_EQ(Connect("w1").status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(WorkerSessionTest, SilentOldSessionIsReplacedSoAReconnectingWorkerGetsBackIn) {
  ASSERT_OK(Connect("w1").status());
  std::shared_ptr<FakeChannel> first = workers_["w1"].channel;
  clock_.Advance(absl::Seconds(6));   // silent for longer: taken as dead, inside the lease
  ASSERT_OK(Connect("w1").status());
  EXPECT_EQ(first->closed, 1);
}

TEST_F(WorkerSessionTest, DisconnectedNameIsFreeAtOnce) {
  ASSERT_OK(Connect("w1").status());
  sched_->OnWorkerDisconnected("w1", Session("w1"));
  ASSERT_OK(Connect("w1").status());
}

TEST_F(WorkerSessionTest, RegisterAckTellsTheLeaseAndLogCap) {
  ASSERT_OK_AND_ASSIGN(v1::RegisterAck ack, Connect("w1"));
  EXPECT_EQ(ack.lease_ms(), 10000);
  EXPECT_EQ(ack.max_log_bytes(), int64_t{100} << 20);
}

TEST_F(WorkerSessionTest, ResultIsAcknowledgedOnceCommitted) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  EXPECT_TRUE(ResultAcks(Channel("w1")).empty());
  Succeed("w1", as[0]);
  EXPECT_EQ(Run(run_id).state, "success");
  auto acks = ResultAcks(Channel("w1"));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].attempt_id(), as[0].attempt_id());
  EXPECT_TRUE(acks[0].recorded());
}

TEST_F(WorkerSessionTest, ResultForAFencedAttemptIsAcknowledgedAsNotRecorded) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Advance(absl::Seconds(11));   // lease lapsed: lost
  EXPECT_EQ(Attempt(as[0].attempt_id()).state, "lost");
  Succeed("w1", as[0]);
  auto acks = ResultAcks(Channel("w1"));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_FALSE(acks[0].recorded()) << "the worker may forget it";
  EXPECT_EQ(Attempt(as[0].attempt_id()).state, "lost");
}

// A restarted scheduler: the worker comes back within the lease holding the attempt whose
// result the old scheduler never committed, learns how much of its log is stored, resends the
// rest and the result, which is committed once: no rerun.
TEST_F(WorkerSessionTest, ResultResentAfterARestartIsCommittedWithoutARerun) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  const int64_t id = as[0].attempt_id();
  Log("w1", id, 0, "first part\n");

  sched_.reset();   // died before the result arrived
  sched_ = NewScheduler();
  ASSERT_OK(sched_->Recover());
  clock_.Advance(absl::Seconds(5));
  ASSERT_OK_AND_ASSIGN(v1::RegisterAck ack, Connect("w1", 1, {}, {id}));
  EXPECT_TRUE(ack.fenced_attempt_ids().empty());
  ASSERT_EQ(ack.log_offsets().count(id), 1u);
  EXPECT_EQ(ack.log_offsets().at(id), 11);
  Log("w1", id, 11, "second part\n");
  Succeed("w1", as[0]);
  EXPECT_EQ(Run(run_id).state, "success");
  EXPECT_EQ(Attempts(run_id).size(), 1u);
  ASSERT_EQ(ResultAcks(Channel("w1")).size(), 1u);
  v1::GetTaskLogRequest req;
  req.set_run_id(run_id);
  req.set_task_id("only");
  auto log = sched_->GetTaskLog(req);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->data(), "first part\nsecond part\n");
}

TEST_F(WorkerSessionTest, SchedulerDropsLogBytesBeyondItsCapWithOneMarker) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  const int64_t id = as[0].attempt_id();
  const int64_t cap = int64_t{100} << 20;
  Log("w1", id, cap, std::string(4096, 'x'));    // 1,024 bytes of room past the cap
  Log("w1", id, cap + 4096, "more\n");
  v1::GetTaskLogRequest req;
  req.set_run_id(run_id);
  req.set_task_id("only");
  req.set_offset(cap);
  auto log = sched_->GetTaskLog(req);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->data().substr(0, 1024), std::string(1024, 'x'));
  EXPECT_EQ(log->data().substr(1024),
            "\n[de: log capped at 104857600 bytes by the scheduler; the rest was dropped]\n");
}

}  // namespace
}  // namespace de::sched
