// The scheduler's state machine, driven without threads: a FakeClock, a recording WorkerChannel,
// ProcessTimers() after moving the clock, and a real SQLite file in a temporary DE_HOME. Every
// check of persisted state reads the database through a separate Store connection, so it also
// proves the transition was committed.
#include "server/sched/scheduler.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/limits.h"
#include "server/store/store.h"
#include "tests/unit/server/scheduler_fixture.h"
#include "tests/unit/server/test_util.h"

namespace de::sched {
namespace {

using ::de::testing_util::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// ---- Worker registration ----------------------------------------------------------------------

// A client cannot make one list call materialise the whole history.
TEST_F(SchedulerTest, ListRunsRefusesALimitBeyondTheCap) {
  auto runs = sched_->ListRuns("", "", kMaxListRows + 1);
  EXPECT_EQ(runs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(runs.status().message(), HasSubstr("is more than 10000 runs"));
  EXPECT_TRUE(sched_->ListRuns("", "", kMaxListRows).ok());
}

TEST_F(SchedulerTest, RegisterAnswersWithAnAckFirst) {
  ASSERT_OK_AND_ASSIGN(v1::RegisterAck ack, Connect("w1", 2));
  EXPECT_EQ(ack.heartbeat_interval_ms(), 2000);
  EXPECT_EQ(ack.lease_ms(), 10000);
  EXPECT_THAT(ack.fenced_attempt_ids(), IsEmpty());
  ASSERT_EQ(Channel("w1").sent.size(), 1u);
  EXPECT_TRUE(Channel("w1").sent[0].has_ack());
  EXPECT_EQ(Channel("w1").sent[0].ack().lease_ms(), 10000);

  auto workers = View()->ListWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].name, "w1");
  EXPECT_EQ((*workers)[0].slots, 2);
  EXPECT_THAT((*workers)[0].pools, ElementsAre("*"));
  EXPECT_EQ((*workers)[0].state, "connected");
}

TEST_F(SchedulerTest, AckPrecedesAssignmentsOfAlreadyReadyTasks) {
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  EXPECT_EQ(Tis(run_id)["only"].state, "queued") << "no worker yet";
  ASSERT_OK(Connect("w1").status());
  const auto& sent = Channel("w1").sent;
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0].has_ack());
  ASSERT_TRUE(sent[1].has_assign());
  EXPECT_EQ(sent[1].assign().task_id(), "only");
}

TEST_F(SchedulerTest, RegisterRejectsAnEmptyNameOrNoSlots) {
  EXPECT_EQ(Connect("", 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Connect("w1", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SchedulerTest, ListWorkersReportsBusySlotsAndPools) {
  ASSERT_OK(Connect("w1", 3, {"default", "io"}).status());
  Submit(kSingle);
  Trigger("single");
  auto workers = sched_->ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  ASSERT_EQ(workers->workers_size(), 1);
  const v1::Worker& w = workers->workers(0);
  EXPECT_EQ(w.name(), "w1");
  EXPECT_EQ(w.slots(), 3);
  EXPECT_EQ(w.busy(), 1);
  EXPECT_THAT(w.pools(), ElementsAre("default", "io"));
  EXPECT_EQ(w.state(), "connected");
}

TEST_F(SchedulerTest, DisconnectIsRecorded) {
  ASSERT_OK(Connect("w1").status());
  sched_->OnWorkerDisconnected("w1", Session("w1"));
  auto workers = sched_->ListWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->workers_size(), 1);
  EXPECT_EQ(workers->workers(0).state(), "disconnected");
  auto rows = View()->ListWorkers();
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].state, "disconnected");
}

// ---- A run from start to end ------------------------------------------------------------------

TEST_F(SchedulerTest, DiamondRunsInDependencyOrderAndRecordsEverything) {
  ASSERT_OK(Connect("w1", 4).status());
  Submit(kDiamond);
  const std::string run_id = Trigger("diamond", {{"who", "test"}});
  FakeChannel& ch = Channel("w1");

  auto first = ch.TakeAssignments();
  ASSERT_THAT(TaskIds(first), ElementsAre("a"));
  const v1::Assignment& a = first[0];
  EXPECT_EQ(a.run_id(), run_id);
  EXPECT_EQ(a.dag_id(), "diamond");
  EXPECT_EQ(a.try_number(), 1);
  EXPECT_EQ(a.type(), "noop");
  EXPECT_GT(a.attempt_id(), 0);
  EXPECT_EQ(a.env().at("DE_RUN_ID"), run_id);
  EXPECT_EQ(a.env().at("DE_TASK"), "a");
  EXPECT_EQ(a.env().at("DE_DS"), "2024-01-01");
  {
    auto tis = Tis(run_id);
    EXPECT_EQ(tis["a"].state, "running");
    EXPECT_EQ(tis["a"].worker, "w1");
    EXPECT_EQ(tis["b"].state, "scheduled");
    EXPECT_EQ(tis["c"].state, "scheduled");
    EXPECT_EQ(tis["d"].state, "scheduled");
    EXPECT_EQ(Run(run_id).state, "running");
  }

  clock_.Advance(absl::Seconds(1));
  Succeed("w1", a);
  auto second = ch.TakeAssignments();
  ASSERT_THAT(TaskIds(second), UnorderedElementsAre("b", "c"));
  const v1::Assignment* b = FindAssignment(second, "b");
  const v1::Assignment* c = FindAssignment(second, "c");
  ASSERT_TRUE(b && c);
  EXPECT_EQ(b->type(), "shell");
  EXPECT_THAT(b->params_yaml(), HasSubstr("b of 2024-01-01")) << "rendered templates";
  EXPECT_NE(b->attempt_id(), c->attempt_id());

  clock_.Advance(absl::Seconds(1));
  Succeed("w1", *b);
  EXPECT_THAT(ch.TakeAssignments(), IsEmpty()) << "d still needs c";
  EXPECT_EQ(Tis(run_id)["d"].state, "scheduled");

  clock_.Advance(absl::Seconds(1));
  Succeed("w1", *c);
  auto third = ch.TakeAssignments();
  ASSERT_THAT(TaskIds(third), ElementsAre("d"));

  clock_.Advance(absl::Seconds(1));
  Succeed("w1", third[0]);
  EXPECT_THAT(ch.TakeAssignments(), IsEmpty());

  // Everything is in the database.
  store::RunRow run = Run(run_id);
  EXPECT_EQ(run.state, "success");
  EXPECT_EQ(run.dag_version, 1);
  EXPECT_EQ(run.run_type, "manual");
  EXPECT_EQ(run.conf, (std::map<std::string, std::string>{{"who", "test"}}));
  EXPECT_EQ(run.logical_date, Ms(start_));
  EXPECT_EQ(run.started_at, Ms(start_));
  EXPECT_EQ(run.ended_at, Ms(start_ + absl::Seconds(4)));
  auto tis = Tis(run_id);
  ASSERT_EQ(tis.size(), 4u);
  for (const auto& [id, t] : tis) {
    EXPECT_EQ(t.state, "success") << id;
    EXPECT_EQ(t.try_number, 1) << id;
    EXPECT_EQ(t.max_tries, 1) << id;
    EXPECT_EQ(t.worker, "w1") << id;
    EXPECT_GT(t.ended_at, 0) << id;
    EXPECT_LE(t.queued_at, t.started_at) << id;
    EXPECT_LE(t.started_at, t.ended_at) << id;
  }
  EXPECT_LE(tis["a"].ended_at, tis["b"].started_at);
  EXPECT_LE(tis["a"].ended_at, tis["c"].started_at);
  EXPECT_LE(tis["b"].ended_at, tis["d"].started_at);
  EXPECT_LE(tis["c"].ended_at, tis["d"].started_at);
  auto attempts = Attempts(run_id);
  ASSERT_EQ(attempts.size(), 4u);
  for (const auto& at : attempts) {
    EXPECT_EQ(at.state, "success") << at.task_id;
    EXPECT_EQ(at.exit_code, std::optional<int>(0)) << at.task_id;
    EXPECT_EQ(at.try_number, 1) << at.task_id;
    EXPECT_EQ(at.worker, "w1") << at.task_id;
    EXPECT_GT(at.ended_at, 0) << at.task_id;
  }

  // The operator view agrees.
  auto proto = sched_->GetRun(run_id);
  ASSERT_TRUE(proto.ok()) << proto.status();
  EXPECT_EQ(proto->state(), "success");
  EXPECT_EQ(proto->tasks_size(), 4);
  EXPECT_EQ(proto->attempts_size(), 4);
}

TEST_F(SchedulerTest, OneSlotWorkerGetsOneTaskAtATime) {
  ASSERT_OK(Connect("w1", 1).status());
  Submit(kDiamond);
  const std::string run_id = Trigger("diamond");
  FakeChannel& ch = Channel("w1");
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    auto as = ch.TakeAssignments();
    ASSERT_EQ(as.size(), 1u) << "step " << i;
    order.push_back(as[0].task_id());
    Succeed("w1", as[0]);
  }
  EXPECT_EQ(order.front(), "a");
  EXPECT_EQ(order.back(), "d");
  EXPECT_EQ(Run(run_id).state, "success");
}

TEST_F(SchedulerTest, RunConfOverridesParamsInRenderedTaskParameters) {
  ASSERT_OK(Connect("w1").status());
  Submit(R"(
dag: templated
params: { raw_dir: data/raw, mode: fast }
tasks:
  - id: t
    type: shell
    with: { command: "ls {{ params.raw_dir }} {{ params.mode }} {{ ds_nodash }} {{ run_id }}" }
)");
  const std::string run_id = Trigger("templated", {{"raw_dir", "other/dir"}});
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  // Each value is one single-quoted word of the shell command (common/dag/shell_quote.h).
  EXPECT_THAT(as[0].params_yaml(), HasSubstr("ls 'other/dir' 'fast' '20240101' '" + run_id + "'"));
  EXPECT_EQ(as[0].env().at("DE_DAG"), "templated");
  EXPECT_EQ(as[0].env().at("DE_PARAM_RAW_DIR"), "other/dir");
  EXPECT_EQ(as[0].env().at("DE_PARAM_MODE"), "fast");
  // An undeclared key is refused by the scheduler itself.
  auto refused = sched_->Trigger("templated", std::nullopt, {{"raw_dri", "x"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("unknown param 'raw_dri' (did you mean 'raw_dir'?)"));
}

// ---- Retries ----------------------------------------------------------------------------------

TEST_F(SchedulerTest, FixedBackoffRetriesAfterTheDelayOnly) {
  ASSERT_OK(Connect("w1").status());
  Submit(R"(
dag: flaky
tasks:
  - id: t
    type: noop
    retries: 2
    retry_delay: 30s
    retry_backoff: fixed
)");
  const std::string run_id = Trigger("flaky");
  FakeChannel& ch = Channel("w1");
  auto as = ch.TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(Tis(run_id)["t"].max_tries, 3);

  std::vector<int64_t> ids = {as[0].attempt_id()};
  for (int failure = 1; failure <= 2; ++failure) {
    const absl::Time failed_at = clock_.Now();
    Fail("w1", as[0], 3);
    store::TaskInstanceRow t = Tis(run_id)["t"];
    EXPECT_EQ(t.state, "up_for_retry") << failure;
    EXPECT_EQ(t.next_retry_at, Ms(failed_at + absl::Seconds(30))) << failure;
    EXPECT_EQ(t.try_number, failure);
    EXPECT_EQ(t.error, "exit code 3");
    EXPECT_EQ(Attempt(as[0].attempt_id()).state, "failed");
    EXPECT_EQ(Attempt(as[0].attempt_id()).exit_code, std::optional<int>(3));

    Advance(absl::Seconds(29));
    EXPECT_THAT(ch.TakeAssignments(), IsEmpty()) << "before next_retry_at";
    EXPECT_EQ(Tis(run_id)["t"].state, "up_for_retry");
    Advance(absl::Seconds(1));
    as = ch.TakeAssignments();
    ASSERT_EQ(as.size(), 1u) << "at next_retry_at";
    EXPECT_EQ(as[0].try_number(), failure + 1);
    EXPECT_EQ(as[0].env().at("DE_TRY_NUMBER"), std::to_string(failure + 1));
    EXPECT_EQ(std::count(ids.begin(), ids.end(), as[0].attempt_id()), 0) << "a new attempt id";
    ids.push_back(as[0].attempt_id());
    t = Tis(run_id)["t"];
    EXPECT_EQ(t.state, "running");
    EXPECT_EQ(t.next_retry_at, 0);
  }
  // The third failure is final.
  Fail("w1", as[0], 4);
  EXPECT_EQ(Tis(run_id)["t"].state, "failed");
  EXPECT_EQ(Tis(run_id)["t"].try_number, 3);
  EXPECT_EQ(Run(run_id).state, "failed");
  Advance(absl::Hours(1));
  EXPECT_THAT(ch.TakeAssignments(), IsEmpty());
  auto attempts = Attempts(run_id);
  ASSERT_EQ(attempts.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(attempts[i].try_number, i + 1);
    EXPECT_EQ(attempts[i].state, "failed");
  }
}

TEST_F(SchedulerTest, ExponentialBackoffDoublesUpToTheCap) {
  ASSERT_OK(Connect("w1").status());
  Submit(R"(
dag: flaky
tasks:
  - id: t
    type: noop
    retries: 4
    retry_delay: 10s
    retry_backoff: exponential
    max_retry_delay: 35s
)");
  const std::string run_id = Trigger("flaky");
  FakeChannel& ch = Channel("w1");
  const std::vector<absl::Duration> expected = {absl::Seconds(10), absl::Seconds(20),
                                                absl::Seconds(35), absl::Seconds(35)};
  for (size_t i = 0; i < expected.size(); ++i) {
    auto as = ch.TakeAssignments();
    ASSERT_EQ(as.size(), 1u) << i;
    const absl::Time failed_at = clock_.Now();
    Fail("w1", as[0]);
    EXPECT_EQ(Tis(run_id)["t"].next_retry_at, Ms(failed_at + expected[i])) << "failure " << i + 1;
    Advance(expected[i] - absl::Milliseconds(1));
    EXPECT_THAT(ch.TakeAssignments(), IsEmpty()) << i;
    Advance(absl::Milliseconds(1));   // due now: the next try is dispatched
  }
  // The fifth (final) try succeeds.
  auto as = ch.TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].try_number(), 5);
  Succeed("w1", as[0]);
  EXPECT_EQ(Run(run_id).state, "success");
  EXPECT_EQ(Tis(run_id)["t"].try_number, 5);
}

TEST_F(SchedulerTest, FinalFailureMarksDownstreamUpstreamFailedAndFailsTheRun) {
  ASSERT_OK(Connect("w1", 4).status());
  Submit(R"(
dag: chain
tasks:
  - id: a
    type: noop
  - id: b
    type: noop
    needs: [a]
  - id: c
    type: noop
    needs: [a]
  - id: d
    type: noop
    needs: [b, c]
  - id: e
    type: noop
    needs: [d]
)");
  const std::string run_id = Trigger("chain");
  FakeChannel& ch = Channel("w1");
  auto as = ch.TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Succeed("w1", as[0]);
  as = ch.TakeAssignments();
  ASSERT_THAT(TaskIds(as), UnorderedElementsAre("b", "c"));
  Fail("w1", *FindAssignment(as, "b"), 2);
  EXPECT_EQ(TaskStates(run_id),
            (std::map<std::string, std::string>{{"a", "success"},
                                                {"b", "failed"},
                                                {"c", "running"},
                                                {"d", "upstream_failed"},
                                                {"e", "upstream_failed"}}));
  EXPECT_EQ(Run(run_id).state, "running") << "c is still running";
  Succeed("w1", *FindAssignment(as, "c"));
  EXPECT_THAT(ch.TakeAssignments(), IsEmpty()) << "nothing downstream may run";
  EXPECT_EQ(TaskStates(run_id)["c"], "success");
  store::RunRow run = Run(run_id);
  EXPECT_EQ(run.state, "failed");
  EXPECT_GT(run.ended_at, 0);
  EXPECT_EQ(Attempts(run_id).size(), 3u);
}

// ---- Leases and fencing -----------------------------------------------------------------------

TEST_F(SchedulerTest, ExpiredLeaseLosesTheAttemptAndRequeuesOnAnotherWorker) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  const int64_t lost_id = as[0].attempt_id();
  ASSERT_OK(Connect("w2").status());
  EXPECT_THAT(Channel("w2").TakeAssignments(), IsEmpty());
  // w1's stream breaks; its attempt survives until the lease lapses.
  sched_->OnWorkerDisconnected("w1", Session("w1"));

  Advance(absl::Seconds(9));
  EXPECT_EQ(Attempt(lost_id).state, "running") << "lease not yet expired";
  Heartbeat("w2", {});
  Advance(absl::Seconds(2));
  store::AttemptRow lost = Attempt(lost_id);
  EXPECT_EQ(lost.state, "lost");
  EXPECT_THAT(lost.error, HasSubstr("w1"));
  EXPECT_FALSE(lost.exit_code.has_value());

  auto again = Channel("w2").TakeAssignments();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].task_id(), "only");
  EXPECT_NE(again[0].attempt_id(), lost_id);
  EXPECT_EQ(again[0].try_number(), 2);
  store::TaskInstanceRow t = Tis(run_id)["only"];
  EXPECT_EQ(t.state, "running");
  EXPECT_EQ(t.worker, "w2");
  EXPECT_EQ(t.lost_count, 1);
  EXPECT_EQ(t.try_number, 2);

  Succeed("w2", again[0]);
  EXPECT_EQ(Run(run_id).state, "success");
}

// Regression (was a bug): a worker whose lease lapsed (it sent no heartbeat for options.lease) but whose session is
// still open stays eligible for dispatch. The lost attempt is re-queued and handed straight back
// to the silent worker (Dispatch breaks ties in free slots by worker name), while w2, which keeps
// heartbeating, idles. Repeated, the task is "lost" max_lost+1 times and fails with "giving up"
// although a healthy worker was there all along. Observed: w1 gets the new attempt, w2 nothing.
TEST_F(SchedulerTest, LostAttemptIsNotRedispatchedToTheSilentWorker) {
  ASSERT_OK(Connect("w1").status());
  ASSERT_OK(Connect("w2").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  const int64_t lost_id = as[0].attempt_id();
  Advance(absl::Seconds(5));
  Heartbeat("w2", {});
  Advance(absl::Seconds(5));   // w1's lease lapses; w2 heartbeated 5 s ago
  ASSERT_EQ(Attempt(lost_id).state, "lost");
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty()) << "w1 has not been heard from";
  auto again = Channel("w2").TakeAssignments();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0].attempt_id(), lost_id);
  Succeed("w2", again[0]);
  EXPECT_EQ(Run(run_id).state, "success");
}

TEST_F(SchedulerTest, LateResultOfAFencedAttemptIsIgnored) {
  ASSERT_OK(Connect("w1").status());
  ASSERT_OK(Connect("w2").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u) << "ties go to the first worker by name";
  const int64_t fenced = as[0].attempt_id();
  sched_->OnWorkerDisconnected("w1", Session("w1"));
  Advance(absl::Seconds(11));
  auto again = Channel("w2").TakeAssignments();
  ASSERT_EQ(again.size(), 1u);

  // w1 comes back still holding the fenced attempt: it is told to drop it.
  ASSERT_OK_AND_ASSIGN(v1::RegisterAck ack, Connect("w1", 1, {}, {fenced}));
  EXPECT_THAT(ack.fenced_attempt_ids(), ElementsAre(fenced));
  // ... and its late success report changes nothing.
  Report("w1", fenced, true);
  EXPECT_EQ(Attempt(fenced).state, "lost");
  EXPECT_EQ(Tis(run_id)["only"].state, "running");
  EXPECT_EQ(Run(run_id).state, "running");

  Succeed("w2", again[0]);
  // A duplicate of the genuine report is ignored too.
  Succeed("w2", again[0]);
  Report("w1", fenced, true);
  EXPECT_EQ(Run(run_id).state, "success");
  auto attempts = Attempts(run_id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(std::count_if(attempts.begin(), attempts.end(),
                          [](const store::AttemptRow& a) { return a.state == "success"; }),
            1);
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty());
  EXPECT_THAT(Channel("w2").TakeAssignments(), IsEmpty());
}

TEST_F(SchedulerTest, HeartbeatsKeepTheLeaseAlive) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  const int64_t id = as[0].attempt_id();
  for (int i = 0; i < 10; ++i) {   // 60 s, six leases long
    Advance(absl::Seconds(6));
    Heartbeat("w1", {id});
  }
  EXPECT_EQ(Attempt(id).state, "running");
  EXPECT_EQ(Tis(run_id)["only"].state, "running");
  EXPECT_THAT(Channel("w1").TakeCancels(), IsEmpty());
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty());

  // Silence for a full lease: lost.
  Advance(absl::Seconds(10));
  EXPECT_EQ(Attempt(id).state, "lost");
}

TEST_F(SchedulerTest, HeartbeatNamingAnUnknownOrForeignAttemptGetsACancel) {
  ASSERT_OK(Connect("w1").status());
  ASSERT_OK(Connect("w2").status());
  Submit(kSingle);
  Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  const int64_t w1_attempt = as[0].attempt_id();

  Heartbeat("w2", {987654, w1_attempt});
  auto cancels = Channel("w2").TakeCancels();
  ASSERT_EQ(cancels.size(), 2u);
  EXPECT_EQ(cancels[0].attempt_id(), 987654);
  EXPECT_EQ(cancels[1].attempt_id(), w1_attempt);
  EXPECT_FALSE(cancels[0].reason().empty());
  // The owner is untouched.
  EXPECT_THAT(Channel("w1").TakeCancels(), IsEmpty());
  EXPECT_EQ(Attempt(w1_attempt).state, "running");
}

TEST_F(SchedulerTest, WorkerReRegisteringWithoutItsAttemptLosesIt) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  const int64_t old_id = as[0].attempt_id();
  std::shared_ptr<FakeChannel> old_channel = workers_["w1"].channel;

  // The old session was not seen to end, but it has been silent for the lease: a worker back
  // from a network drop (a live one would be refused as a duplicate name).
  clock_.Advance(absl::Seconds(10));
  ASSERT_OK_AND_ASSIGN(v1::RegisterAck ack, Connect("w1", 1, {}, {}));
  EXPECT_THAT(ack.fenced_attempt_ids(), IsEmpty());
  EXPECT_EQ(old_channel->closed, 1) << "the replaced session is closed";
  store::AttemptRow old = Attempt(old_id);
  EXPECT_EQ(old.state, "lost");
  EXPECT_THAT(old.error, HasSubstr("restarted"));
  // Re-queued at once (no lease wait) and given to the new session with a new id.
  const auto& sent = Channel("w1").sent;
  ASSERT_GE(sent.size(), 2u);
  EXPECT_TRUE(sent[0].has_ack());
  auto again = Channel("w1").TakeAssignments();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0].attempt_id(), old_id);
  EXPECT_EQ(again[0].try_number(), 2);
  EXPECT_EQ(Tis(run_id)["only"].lost_count, 1);
  Succeed("w1", again[0]);
  EXPECT_EQ(Run(run_id).state, "success");
}

TEST_F(SchedulerTest, WorkerReRegisteringWithItsAttemptKeepsIt) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  const int64_t id = as[0].attempt_id();
  const uint64_t old_session = Session("w1");

  Advance(absl::Seconds(8));
  sched_->OnWorkerDisconnected("w1", old_session);
  ASSERT_OK_AND_ASSIGN(v1::RegisterAck ack, Connect("w1", 1, {}, {id}));
  EXPECT_THAT(ack.fenced_attempt_ids(), IsEmpty());
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty()) << "its one slot is still busy";
  // The re-registration renewed the lease.
  Advance(absl::Seconds(8));
  EXPECT_EQ(Attempt(id).state, "running");

  // A message on the replaced session is ignored.
  v1::WorkerMessage stale;
  stale.mutable_result()->set_attempt_id(id);
  stale.mutable_result()->set_success(false);
  sched_->OnWorkerMessage("w1", old_session, stale);
  EXPECT_EQ(Attempt(id).state, "running");

  Succeed("w1", as[0]);
  EXPECT_EQ(Attempt(id).state, "success");
  EXPECT_EQ(Run(run_id).state, "success");
  EXPECT_EQ(Attempts(run_id).size(), 1u);
  EXPECT_EQ(Tis(run_id)["only"].lost_count, 0);
}

TEST_F(SchedulerTest, UnknownAttemptInRegisterIsFenced) {
  ASSERT_OK_AND_ASSIGN(v1::RegisterAck ack, Connect("w1", 2, {}, {424242, 7}));
  EXPECT_THAT(ack.fenced_attempt_ids(), UnorderedElementsAre(424242, 7));
}

TEST_F(SchedulerTest, AnotherWorkersAttemptInRegisterIsFenced) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  ASSERT_OK_AND_ASSIGN(v1::RegisterAck ack, Connect("w2", 1, {}, {as[0].attempt_id()}));
  EXPECT_THAT(ack.fenced_attempt_ids(), ElementsAre(as[0].attempt_id()));
  EXPECT_EQ(Attempt(as[0].attempt_id()).state, "running") << "w1 still owns it";
}

TEST_F(SchedulerTest, LostTooOftenFailsTheTask) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  // max_lost = 3: the 4th lost attempt is final.
  for (int i = 0; i < 4; ++i) {
    auto as = Channel("w1").TakeAssignments();
    ASSERT_EQ(as.size(), 1u) << i;
    Advance(absl::Seconds(10));
    Heartbeat("w1", {});   // heard from again: eligible for work (but without the attempt)
  }
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty());
  store::TaskInstanceRow t = Tis(run_id)["only"];
  EXPECT_EQ(t.state, "failed");
  EXPECT_EQ(t.lost_count, 4);
  EXPECT_THAT(t.error, HasSubstr("giving up"));
  EXPECT_EQ(Run(run_id).state, "failed");
  auto attempts = Attempts(run_id);
  ASSERT_EQ(attempts.size(), 4u);
  for (const auto& a : attempts) EXPECT_EQ(a.state, "lost");
}

TEST_F(SchedulerTest, LostAttemptsDoNotUseUpRetries) {
  ASSERT_OK(Connect("w1").status());
  Submit(R"(
dag: once
tasks:
  - id: t
    type: noop
    retries: 0
)");
  const std::string run_id = Trigger("once");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Advance(absl::Seconds(10));   // lost
  Heartbeat("w1", {});
  as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u) << "a lost attempt is re-queued even without retries";
  Fail("w1", as[0]);
  EXPECT_EQ(Tis(run_id)["t"].state, "failed") << "the one real failure is final";
}

// ---- Timeouts ---------------------------------------------------------------------------------

TEST_F(SchedulerTest, UnreportedTimeoutIsFencedAfterTheGracePeriod) {
  ASSERT_OK(Connect("w1").status());
  Submit(R"(
dag: slow
tasks:
  - id: t
    type: noop
    timeout: 1m
    retries: 1
    retry_delay: 5s
)");
  const std::string run_id = Trigger("slow");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].timeout_ms(), 60000);
  const int64_t id = as[0].attempt_id();
  // The worker keeps heartbeating but never reports the kill.
  for (int i = 0; i < 37; ++i) {   // 74 s < 60 s + 15 s grace
    Advance(absl::Seconds(2));
    Heartbeat("w1", {id});
  }
  EXPECT_EQ(Attempt(id).state, "running");
  Advance(absl::Seconds(1));   // 75 s
  EXPECT_EQ(Attempt(id).state, "timed_out");
  auto cancels = Channel("w1").TakeCancels();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].attempt_id(), id);
  EXPECT_EQ(Tis(run_id)["t"].state, "up_for_retry");
  Advance(absl::Seconds(5));
  as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].try_number(), 2);
}

TEST_F(SchedulerTest, WorkerReportedTimeoutCountsAsAFailure) {
  ASSERT_OK(Connect("w1").status());
  Submit(R"(
dag: slow
tasks:
  - id: t
    type: noop
    timeout: 1m
)");
  const std::string run_id = Trigger("slow");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  v1::WorkerMessage m;
  m.mutable_result()->set_attempt_id(as[0].attempt_id());
  m.mutable_result()->set_timed_out(true);
  m.mutable_result()->set_exit_code(-9);
  m.mutable_result()->set_error("timed out after 1m");
  sched_->OnWorkerMessage("w1", Session("w1"), m);
  EXPECT_EQ(Attempt(as[0].attempt_id()).state, "timed_out");
  EXPECT_EQ(Tis(run_id)["t"].state, "failed");
  EXPECT_EQ(Run(run_id).state, "failed");
}

// ---- Limits, pools, priorities ----------------------------------------------------------------

TEST_F(SchedulerTest, MaxActiveRunsKeepsTheSecondRunQueued) {
  ASSERT_OK(Connect("w1", 4).status());
  Submit(R"(
dag: serial
max_active_runs: 1
tasks:
  - id: only
    type: noop
)");
  const std::string first = Trigger("serial");
  clock_.Advance(absl::Seconds(1));
  const std::string second = Trigger("serial");
  ASSERT_NE(first, second);
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].run_id(), first);
  EXPECT_EQ(Run(second).state, "queued");
  EXPECT_EQ(Tis(second)["only"].state, "scheduled");

  Succeed("w1", as[0]);
  EXPECT_EQ(Run(first).state, "success");
  EXPECT_EQ(Run(second).state, "running");
  as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].run_id(), second);
  Succeed("w1", as[0]);
  EXPECT_EQ(Run(second).state, "success");
}

TEST_F(SchedulerTest, CancellingTheActiveRunPromotesTheQueuedOne) {
  ASSERT_OK(Connect("w1", 4).status());
  Submit(R"(
dag: serial
max_active_runs: 1
tasks:
  - id: only
    type: noop
)");
  const std::string first = Trigger("serial");
  const std::string second = Trigger("serial");
  ASSERT_NE(first, second);
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  ASSERT_TRUE(sched_->CancelRun(first).ok());
  EXPECT_EQ(Run(first).state, "cancelled");
  EXPECT_EQ(Run(second).state, "running");
  as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].run_id(), second);
}

TEST_F(SchedulerTest, MaxActiveTasksCapsConcurrentAttemptsOfTheDag) {
  ASSERT_OK(Connect("w1", 10).status());
  Submit(R"(
dag: wide
max_active_tasks: 2
tasks:
  - { id: t1, type: noop }
  - { id: t2, type: noop }
  - { id: t3, type: noop }
  - { id: t4, type: noop }
)");
  const std::string run_id = Trigger("wide");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 2u);
  auto states = TaskStates(run_id);
  EXPECT_EQ(std::count_if(states.begin(), states.end(),
                          [](const auto& kv) { return kv.second == "queued"; }),
            2);
  Succeed("w1", as[0]);
  auto more = Channel("w1").TakeAssignments();
  ASSERT_EQ(more.size(), 1u);
  Succeed("w1", as[1]);
  Succeed("w1", more[0]);
  auto last = Channel("w1").TakeAssignments();
  ASSERT_EQ(last.size(), 1u);
  Succeed("w1", last[0]);
  EXPECT_EQ(Run(run_id).state, "success");
}

TEST_F(SchedulerTest, PoolsRouteTasksToWorkersThatServeThem) {
  Submit(R"(
dag: pooled
tasks:
  - { id: cpu_task, type: noop }
  - { id: gpu_task, type: noop, pool: gpu }
)");
  const std::string run_id = Trigger("pooled");
  ASSERT_OK(Connect("gpu_box", 4, {"gpu"}).status());
  auto as = Channel("gpu_box").TakeAssignments();
  ASSERT_THAT(TaskIds(as), ElementsAre("gpu_task"));
  EXPECT_EQ(Tis(run_id)["cpu_task"].state, "queued");
  Succeed("gpu_box", as[0]);
  EXPECT_THAT(Channel("gpu_box").TakeAssignments(), IsEmpty());

  ASSERT_OK(Connect("plain", 4).status());
  as = Channel("plain").TakeAssignments();
  ASSERT_THAT(TaskIds(as), ElementsAre("cpu_task"));
  Succeed("plain", as[0]);
  EXPECT_EQ(Run(run_id).state, "success");
}

TEST_F(SchedulerTest, HigherPriorityReadyTasksGoFirst) {
  Submit(R"(
dag: prio
tasks:
  - { id: low, type: noop, priority: 1 }
  - { id: high, type: noop, priority: 10 }
  - { id: mid, type: noop, priority: 5 }
  - { id: negative, type: noop, priority: -3 }
)");
  const std::string run_id = Trigger("prio");
  ASSERT_OK(Connect("w1", 1).status());
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    auto as = Channel("w1").TakeAssignments();
    ASSERT_EQ(as.size(), 1u) << i;
    order.push_back(as[0].task_id());
    Succeed("w1", as[0]);
  }
  EXPECT_THAT(order, ElementsAre("high", "mid", "low", "negative"));
  EXPECT_EQ(Run(run_id).state, "success");
}

// ---- Cancel -----------------------------------------------------------------------------------

TEST_F(SchedulerTest, CancelRunCancelsRunningAndPendingTasks) {
  ASSERT_OK(Connect("w1", 4).status());
  Submit(kDiamond);
  const std::string run_id = Trigger("diamond");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  const int64_t id = as[0].attempt_id();

  auto cancelled = sched_->CancelRun(run_id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), "cancelled");
  auto cancels = Channel("w1").TakeCancels();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].attempt_id(), id);

  store::RunRow run = Run(run_id);
  EXPECT_EQ(run.state, "cancelled");
  EXPECT_EQ(run.reason, "cancelled by operator");
  EXPECT_GT(run.ended_at, 0);
  for (const auto& [task, state] : TaskStates(run_id)) EXPECT_EQ(state, "cancelled") << task;
  EXPECT_EQ(Attempt(id).state, "cancelled");

  // The worker's report of the killed attempt changes nothing and starts nothing.
  v1::WorkerMessage m;
  m.mutable_result()->set_attempt_id(id);
  m.mutable_result()->set_cancelled(true);
  sched_->OnWorkerMessage("w1", Session("w1"), m);
  Report("w1", id, true);
  EXPECT_EQ(Run(run_id).state, "cancelled");
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty());

  EXPECT_EQ(sched_->CancelRun(run_id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sched_->CancelRun("no_such_run").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SchedulerTest, CancelAQueuedRun) {
  ASSERT_OK(Connect("w1", 4).status());
  Submit(R"(
dag: serial
max_active_runs: 1
tasks:
  - { id: only, type: noop }
)");
  const std::string first = Trigger("serial");
  const std::string second = Trigger("serial");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  auto cancelled = sched_->CancelRun(second);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(Run(second).state, "cancelled");
  EXPECT_EQ(Tis(second)["only"].state, "cancelled");
  EXPECT_THAT(Channel("w1").TakeCancels(), IsEmpty()) << "nothing of it was running";
  Succeed("w1", as[0]);
  EXPECT_EQ(Run(first).state, "success");
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty());
}

TEST_F(SchedulerTest, CancelRunClearsAPendingRetry) {
  ASSERT_OK(Connect("w1").status());
  Submit(R"(
dag: flaky
tasks:
  - { id: t, type: noop, retries: 3, retry_delay: 10s }
)");
  const std::string run_id = Trigger("flaky");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Fail("w1", as[0]);
  ASSERT_EQ(Tis(run_id)["t"].state, "up_for_retry");
  ASSERT_TRUE(sched_->CancelRun(run_id).ok());
  EXPECT_EQ(Tis(run_id)["t"].state, "cancelled");
  Advance(absl::Minutes(5));
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty()) << "no retry after cancel";
  EXPECT_EQ(Run(run_id).state, "cancelled");
}

// Regression (was a bug): CancelRun records reason "cancelled by operator" only when the run is still unfinished
// after its tasks were cancelled. When cancelling the last running task is what finishes the run
// (EndAttempt -> MaybeFinishRun sets state 'cancelled' first), the run ends with an empty reason,
// in the database and in the returned proto. Here a, b, c succeeded and d is running.
TEST_F(SchedulerTest, CancelRunRecordsTheReasonWhenTheRunningTaskWasTheLastOne) {
  ASSERT_OK(Connect("w1", 4).status());
  Submit(kDiamond);
  const std::string run_id = Trigger("diamond");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Succeed("w1", as[0]);
  as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 2u);
  Succeed("w1", as[0]);
  Succeed("w1", as[1]);
  as = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(as), ElementsAre("d"));

  auto cancelled = sched_->CancelRun(run_id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), "cancelled");
  EXPECT_EQ(cancelled->reason(), "cancelled by operator");
  EXPECT_EQ(Run(run_id).state, "cancelled");
  EXPECT_EQ(Run(run_id).reason, "cancelled by operator");
}

// ---- Crash recovery ---------------------------------------------------------------------------

TEST_F(SchedulerTest, RecoveryResumesRunningAttemptsWithoutDuplicates) {
  ASSERT_OK(Connect("w1", 2).status());
  Submit(kDiamond);
  const std::string run_id = Trigger("diamond");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Succeed("w1", as[0]);
  auto bc = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(bc), UnorderedElementsAre("b", "c"));

  // The scheduler dies (its object and connection are simply abandoned); a new one starts on
  // the same database file and the worker reconnects still running b and c.
  std::unique_ptr<Scheduler> crashed = std::move(sched_);
  clock_.Advance(absl::Seconds(3));
  sched_ = NewScheduler();
  ASSERT_NE(sched_, nullptr);
  ASSERT_OK(sched_->Recover());
  ASSERT_OK_AND_ASSIGN(v1::RegisterAck ack,
                       Connect("w1", 2, {}, {bc[0].attempt_id(), bc[1].attempt_id()}));
  EXPECT_THAT(ack.fenced_attempt_ids(), IsEmpty());
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty()) << "nothing is dispatched twice";

  Succeed("w1", bc[0]);
  Succeed("w1", bc[1]);
  auto d = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(d), ElementsAre("d"));
  Succeed("w1", d[0]);

  EXPECT_EQ(Run(run_id).state, "success");
  auto attempts = Attempts(run_id);
  ASSERT_EQ(attempts.size(), 4u);
  std::map<std::string, int> per_task;
  for (const auto& a : attempts) {
    EXPECT_EQ(a.state, "success") << a.task_id;
    per_task[a.task_id]++;
  }
  EXPECT_EQ(per_task, (std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}}));
}

TEST_F(SchedulerTest, RecoveryLosesAttemptsWhoseWorkerDoesNotComeBack) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  std::unique_ptr<Scheduler> crashed = std::move(sched_);
  sched_ = NewScheduler();
  ASSERT_OK(sched_->Recover());
  ASSERT_OK(Connect("w2").status());
  EXPECT_THAT(Channel("w2").TakeAssignments(), IsEmpty()) << "w1 gets one lease to come back";
  Advance(absl::Seconds(10));
  EXPECT_EQ(Attempt(as[0].attempt_id()).state, "lost");
  auto again = Channel("w2").TakeAssignments();
  ASSERT_EQ(again.size(), 1u);
  Succeed("w2", again[0]);
  EXPECT_EQ(Run(run_id).state, "success");
}

TEST_F(SchedulerTest, RecoveryKeepsQueuedTasksAndPendingRetries) {
  Submit(R"(
dag: mixed
tasks:
  - { id: flaky, type: noop, retries: 1, retry_delay: 30s }
  - { id: waiting, type: noop }
)");
  ASSERT_OK(Connect("w1", 1).status());
  const std::string run_id = Trigger("mixed");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(as), ElementsAre("flaky"));
  Fail("w1", as[0]);
  // The freed slot went to the other task, which is running when the scheduler dies.
  auto w = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(w), ElementsAre("waiting"));

  std::unique_ptr<Scheduler> crashed = std::move(sched_);
  sched_ = NewScheduler();
  ASSERT_OK(sched_->Recover());
  ASSERT_OK(Connect("w1", 1, {}, {w[0].attempt_id()}).status());
  Succeed("w1", w[0]);
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty()) << "retry not yet due";
  Advance(absl::Seconds(30));
  as = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(as), ElementsAre("flaky"));
  EXPECT_EQ(as[0].try_number(), 2);
  Succeed("w1", as[0]);
  EXPECT_EQ(Run(run_id).state, "success");
}

TEST_F(SchedulerTest, RecoveryKeepsTheMaxActiveRunsQueue) {
  ASSERT_OK(Connect("w1", 4).status());
  Submit(R"(
dag: serial
max_active_runs: 1
tasks:
  - { id: only, type: noop }
)");
  const std::string first = Trigger("serial");
  const std::string second = Trigger("serial");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);

  std::unique_ptr<Scheduler> crashed = std::move(sched_);
  sched_ = NewScheduler();
  ASSERT_OK(sched_->Recover());
  EXPECT_EQ(Run(second).state, "queued") << "the limit still holds after recovery";
  ASSERT_OK(Connect("w1", 4, {}, {as[0].attempt_id()}).status());
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty());
  Succeed("w1", as[0]);
  EXPECT_EQ(Run(first).state, "success");
  as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].run_id(), second);
  Succeed("w1", as[0]);
  EXPECT_EQ(Run(second).state, "success");
}

TEST_F(SchedulerTest, RecoveredAttemptKeepsItsOriginalTimeoutDeadline) {
  ASSERT_OK(Connect("w1").status());
  Submit(R"(
dag: slow
tasks:
  - { id: t, type: noop, timeout: 1m }
)");
  const std::string run_id = Trigger("slow");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  std::unique_ptr<Scheduler> crashed = std::move(sched_);
  clock_.Advance(absl::Seconds(70));   // the scheduler was down for 70 s
  sched_ = NewScheduler();
  ASSERT_OK(sched_->Recover());
  ASSERT_OK(Connect("w1", 1, {}, {as[0].attempt_id()}).status());
  Advance(absl::Seconds(4));   // 74 s after the start: within timeout + grace
  Heartbeat("w1", {as[0].attempt_id()});
  EXPECT_EQ(Attempt(as[0].attempt_id()).state, "running");
  Advance(absl::Seconds(1));   // 75 s = 60 s + 15 s grace
  EXPECT_EQ(Attempt(as[0].attempt_id()).state, "timed_out");
  EXPECT_EQ(Run(run_id).state, "failed");
}

// ---- DAG versions and validation --------------------------------------------------------------

TEST_F(SchedulerTest, ResubmitKeepsOrBumpsTheVersionAndRunsKeepTheirs) {
  auto v1 = sched_->SubmitDag(kSingle, "single.yaml");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->version(), 1);
  EXPECT_TRUE(v1->changed());
  auto same = sched_->SubmitDag(kSingle, "single.yaml");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->version(), 1);
  EXPECT_FALSE(same->changed());

  ASSERT_OK(Connect("w1", 4).status());
  const std::string old_run = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);

  const std::string changed_yaml = std::string(kSingle) + R"(
  - id: extra
    type: noop
    needs: [only]
)";
  auto v2 = sched_->SubmitDag(changed_yaml, "single.yaml");
  ASSERT_TRUE(v2.ok());
  ASSERT_THAT(v2->errors(), IsEmpty());
  EXPECT_EQ(v2->version(), 2);
  EXPECT_TRUE(v2->changed());
  auto dag = View()->GetDag("single");
  ASSERT_TRUE(dag.ok() && dag->has_value());
  EXPECT_EQ((*dag)->latest_version, 2);

  // The run started on v1 finishes as v1: no 'extra' task.
  Succeed("w1", as[0]);
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty());
  EXPECT_EQ(Run(old_run).dag_version, 1);
  EXPECT_EQ(Run(old_run).state, "success");
  EXPECT_EQ(Tis(old_run).size(), 1u);

  clock_.Advance(absl::Seconds(1));
  const std::string new_run = Trigger("single");
  EXPECT_EQ(Run(new_run).dag_version, 2);
  EXPECT_EQ(Tis(new_run).size(), 2u);

  auto got = sched_->GetDag("single", 0);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->summary().version(), 2);
  EXPECT_THAT(got->versions(), ElementsAre(1, 2));
  auto old_def = sched_->GetDag("single", 1);
  ASSERT_TRUE(old_def.ok());
  EXPECT_EQ(old_def->yaml(), kSingle);
}

TEST_F(SchedulerTest, InvalidYamlStoresNothing) {
  auto resp = sched_->SubmitDag(R"(
dag: broken
tasks:
  - id: a
    type: no_such_type
  - id: b
    type: noop
    needs: [zzz]
)",
                                "broken.yaml");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_GE(resp->errors_size(), 2);
  EXPECT_EQ(resp->errors(0).file(), "broken.yaml");
  EXPECT_GT(resp->errors(0).line(), 0);
  auto view = View();
  auto dags = view->ListDags();
  ASSERT_TRUE(dags.ok());
  EXPECT_THAT(*dags, IsEmpty());
  EXPECT_EQ(testing_util::QueryInt(view->db(), "SELECT count(*) FROM dag_versions"), 0);
  EXPECT_EQ(sched_->Trigger("broken", std::nullopt, {}).status().code(),
            absl::StatusCode::kNotFound);

  auto garbage = sched_->SubmitDag("dag: [unclosed\n  tasks: {", "garbage.yaml");
  ASSERT_TRUE(garbage.ok());
  EXPECT_GE(garbage->errors_size(), 1);
  dags = View()->ListDags();
  ASSERT_TRUE(dags.ok());
  EXPECT_THAT(*dags, IsEmpty());
}

TEST_F(SchedulerTest, PausedDagRefusesTrigger) {
  Submit(kSingle);
  ASSERT_TRUE(sched_->SetPaused("single", true).ok());
  auto run = sched_->Trigger("single", std::nullopt, {});
  EXPECT_EQ(run.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(run.status().message()), HasSubstr("paused"));
  auto runs = View()->ListRuns("", "", 100);
  ASSERT_TRUE(runs.ok());
  EXPECT_THAT(*runs, IsEmpty());

  ASSERT_TRUE(sched_->SetPaused("single", false).ok());
  EXPECT_FALSE(Trigger("single").empty());
  EXPECT_EQ(sched_->SetPaused("nope", true).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sched_->Trigger("nope", std::nullopt, {}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SchedulerTest, DeleteDagRefusesWhileRunsAreUnfinished) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  EXPECT_EQ(sched_->DeleteDag("single").status().code(), absl::StatusCode::kFailedPrecondition);
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Succeed("w1", as[0]);
  auto deleted = sched_->DeleteDag("single");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->runs_deleted(), 1);
  auto gone = View()->GetRun(run_id);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
}

// ---- Logs -------------------------------------------------------------------------------------

TEST_F(SchedulerTest, TaskLogChunksAreStoredAtTheirOffsets) {
  ASSERT_OK(Connect("w1").status());
  Submit(R"(
dag: logged
tasks:
  - { id: t, type: noop, retries: 1, retry_delay: 1s }
)");
  const std::string run_id = Trigger("logged");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  const int64_t id = as[0].attempt_id();

  // Out of order on purpose: each chunk lands at its own offset.
  Log("w1", id, 6, "world\n");
  Log("w1", id, 0, "hello ");

  v1::GetTaskLogRequest req;
  req.set_run_id(run_id);
  req.set_task_id("t");
  auto log = sched_->GetTaskLog(req);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->data(), "hello world\n");
  EXPECT_EQ(log->next_offset(), 12);
  EXPECT_EQ(log->try_number(), 1);
  EXPECT_FALSE(log->finished()) << "the attempt is still running";

  req.set_offset(6);
  log = sched_->GetTaskLog(req);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->data(), "world\n");
  EXPECT_EQ(log->next_offset(), 12);

  req.set_offset(0);
  req.set_max_bytes(5);
  log = sched_->GetTaskLog(req);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->data(), "hello");
  EXPECT_EQ(log->next_offset(), 5);
  EXPECT_FALSE(log->finished());
  req.set_max_bytes(0);

  // Nothing new at the end of a running attempt: empty, not finished.
  req.set_offset(12);
  log = sched_->GetTaskLog(req);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->data(), "");
  EXPECT_EQ(log->next_offset(), 12);
  EXPECT_FALSE(log->finished());

  Log("w1", id, 12, "bye\n");
  Fail("w1", as[0]);
  // After the attempt ended, further chunks for it are dropped.
  Log("w1", id, 16, "late\n");
  req.set_offset(12);
  log = sched_->GetTaskLog(req);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->data(), "bye\n");
  EXPECT_EQ(log->next_offset(), 16);
  EXPECT_TRUE(log->finished());

  // The retry has a log of its own; try_number 0 means the latest.
  Advance(absl::Seconds(1));
  as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Log("w1", as[0].attempt_id(), 0, "second try\n");
  req.set_offset(0);
  log = sched_->GetTaskLog(req);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->try_number(), 2);
  EXPECT_EQ(log->data(), "second try\n");
  req.set_try_number(1);
  log = sched_->GetTaskLog(req);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->try_number(), 1);
  EXPECT_EQ(log->data(), "hello world\nbye\n");
  EXPECT_TRUE(log->finished());

  req.set_try_number(7);
  EXPECT_EQ(sched_->GetTaskLog(req).status().code(), absl::StatusCode::kNotFound);
  req.set_try_number(0);
  req.set_task_id("nope");
  EXPECT_EQ(sched_->GetTaskLog(req).status().code(), absl::StatusCode::kNotFound);
  req.set_run_id("no_run");
  EXPECT_EQ(sched_->GetTaskLog(req).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SchedulerTest, LogChunksForUnknownAttemptsAreDropped) {
  ASSERT_OK(Connect("w1").status());
  Submit(kSingle);
  const std::string run_id = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Log("w1", as[0].attempt_id() + 1000, 0, "not mine\n");
  v1::GetTaskLogRequest req;
  req.set_run_id(run_id);
  req.set_task_id("only");
  auto log = sched_->GetTaskLog(req);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->data(), "");
}

// A failure retrying cannot fix (the worker marks it non_retryable: bad parameters, an input
// outside the data root) fails the task at once, keeping the task's own message; an ordinary
// failure of the same task is still retried.
TEST_F(SchedulerTest, NonRetryableFailureSkipsTheRemainingRetries) {
  ASSERT_OK(Connect("w1").status());
  Submit(R"(
dag: strict
tasks:
  - { id: t, type: noop, retries: 3, retry_delay: 10s }
)");
  const std::string run_id = Trigger("strict");
  FakeChannel& ch = Channel("w1");
  auto as = ch.TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Fail("w1", as[0], 1);
  EXPECT_EQ(Tis(run_id)["t"].state, "up_for_retry") << "an ordinary failure is retried";
  Advance(absl::Seconds(10));
  as = ch.TakeAssignments();
  ASSERT_EQ(as.size(), 1u);

  v1::WorkerMessage m;
  v1::TaskResult* r = m.mutable_result();
  r->set_attempt_id(as[0].attempt_id());
  r->set_success(false);
  r->set_exit_code(1);
  r->set_error("input '/etc/passwd' is outside the data root /data");
  r->set_non_retryable(true);
  sched_->OnWorkerMessage("w1", Session("w1"), m);

  store::TaskInstanceRow t = Tis(run_id)["t"];
  EXPECT_EQ(t.state, "failed");
  EXPECT_EQ(t.try_number, 2);
  EXPECT_EQ(t.error, "input '/etc/passwd' is outside the data root /data");
  EXPECT_EQ(Run(run_id).state, "failed");
  Advance(absl::Hours(1));
  EXPECT_THAT(ch.TakeAssignments(), IsEmpty());
  EXPECT_EQ(Attempts(run_id).size(), 2u);
}

}  // namespace
}  // namespace de::sched
