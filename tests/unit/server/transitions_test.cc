// The one transition function: every change emits an event to the listeners inside its
// transaction (OnEvent) and after the commit (OnCommitted); a rolled-back transaction delivers
// nothing after commit and leaves the store as it was.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sched/events.h"
#include "tests/unit/server/scheduler_fixture.h"

namespace de::sched {
namespace {

// Records every event; can be told to fail OnEvent for one (kind, to_state).
class RecordingListener : public EventListener {
 public:
  absl::Status OnEvent(const Event& e, store::Db* db) override {
    if (db == nullptr) return absl::InternalError("no db");
    if (fail_kind && e.kind == *fail_kind && e.to_state == fail_state) {
      return absl::UnavailableError("listener refuses");
    }
    in_tx.push_back(e);
    return absl::OkStatus();
  }
  void OnCommitted(const std::vector<Event>& events) override {
    committed.insert(committed.end(), events.begin(), events.end());
  }
  std::vector<std::string> Committed(const std::string& task = "*") const {
    std::vector<std::string> out;
    for (const auto& e : committed) {
      if (task != "*" && e.task != task) continue;
      out.push_back(
          absl::StrCat(EventKindName(e.kind), ":", e.task, ":", e.from_state, ">", e.to_state));
    }
    return out;
  }

  std::optional<EventKind> fail_kind;
  std::string fail_state;
  std::vector<Event> in_tx;
  std::vector<Event> committed;
};

class TransitionsTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    sched_->AddEventListener(&listener_);
  }
  RecordingListener listener_;
};

TEST_F(TransitionsTest, ASuccessfulRunEmitsEveryTransitionInOrder) {
  Submit(kSingle);
  ASSERT_OK_AND_ASSIGN(auto ack, Connect("w1"));
  const std::string run = Trigger("single");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Succeed("w1", as[0]);
  EXPECT_THAT(
      listener_.Committed(),
      ::testing::ElementsAre("run_state::>queued", "run_state::queued>running",
                             "task_state:only:scheduled>queued", "task_state:only:queued>running",
                             "task_state:only:running>success", "run_state::running>success"));
  const Event& done = listener_.committed.back();
  EXPECT_EQ(done.dag, "single");
  EXPECT_EQ(done.run_id, run);
  EXPECT_EQ(done.run_type, "manual");
  const Event& ran = listener_.committed[4];
  EXPECT_EQ(ran.attempt_id, as[0].attempt_id());
  EXPECT_EQ(ran.try_number, 1);
  EXPECT_EQ(ran.worker, "w1");
  EXPECT_EQ(ran.pool, "default");
  EXPECT_EQ(listener_.in_tx.size(), listener_.committed.size());
}

TEST_F(TransitionsTest, RetryAndLeaseLossAreTheirOwnKinds) {
  Submit(R"(
dag: flaky
tasks:
  - id: t
    type: noop
    retries: 1
    retry_delay: 10s
)");
  ASSERT_OK_AND_ASSIGN(auto ack, Connect("w1"));
  Trigger("flaky");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Fail("w1", as[0]);
  Advance(absl::Seconds(10));
  as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Advance(absl::Seconds(11));  // no heartbeat: the lease lapses, the attempt is retried at once
  EXPECT_THAT(
      listener_.Committed("t"),
      ::testing::ElementsAre("task_state:t:scheduled>queued", "task_state:t:queued>running",
                             "retry:t:running>up_for_retry", "task_state:t:up_for_retry>queued",
                             "task_state:t:queued>running", "lease_lost:t:running>running",
                             "retry:t:running>queued"));
}

TEST_F(TransitionsTest, RolledBackTransitionDeliversNothingAfterCommit) {
  Submit(kSingle);
  const std::string run = Trigger("single");
  const size_t before = listener_.committed.size();
  // The listener refuses the dispatch's running event: that transaction rolls back.
  listener_.fail_kind = EventKind::kTaskState;
  listener_.fail_state = "running";
  ASSERT_OK_AND_ASSIGN(auto ack, Connect("w1"));
  EXPECT_EQ(listener_.committed.size(), before);
  EXPECT_THAT(listener_.Committed("only"),
              ::testing::ElementsAre("task_state:only:scheduled>queued"));
  EXPECT_EQ(TaskStates(run)["only"], "queued");
  EXPECT_TRUE(Attempts(run).empty());
  // Once the listener accepts again, the same transition goes through and is delivered once.
  listener_.fail_kind.reset();
  Advance(absl::Seconds(1));
  EXPECT_THAT(
      listener_.Committed("only"),
      ::testing::ElementsAre("task_state:only:scheduled>queued", "task_state:only:queued>running"));
  EXPECT_EQ(TaskStates(run)["only"], "running");
}

TEST_F(TransitionsTest, WaitTimeoutEmitsItsEventThenFailsTheRun) {
  Submit(R"(
dag: up
tasks:
  - id: a
    type: noop
)");
  Submit(R"(
dag: down
wait_for:
  - dag: up
    timeout: 1h
tasks:
  - id: b
    type: noop
)");
  const std::string run = Trigger("down");
  Advance(absl::Hours(1));
  EXPECT_EQ(Run(run).state, "failed");
  std::vector<std::string> run_events;
  for (const auto& e : listener_.committed) {
    if (e.run_id == run && e.task.empty()) {
      run_events.push_back(absl::StrCat(EventKindName(e.kind), ":", e.from_state, ">", e.to_state));
    }
  }
  EXPECT_THAT(run_events,
              ::testing::ElementsAre("run_state:>waiting", "wait_timeout:waiting>waiting",
                                     "run_state:waiting>failed"));
}

}  // namespace
}  // namespace de::sched
