// Deadlines (DAG sla:, task deadline:) with the fake clock: arithmetic per anchor, firing at the
// deadline itself whatever the run's state, exactly once per run, also across a restart.
#include "server/sched/deadlines.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sched/events.h"
#include "tests/unit/server/scheduler_fixture.h"

namespace de::sched {
namespace {

class MissRecorder : public EventListener {
 public:
  void OnCommitted(const std::vector<Event>& events) override {
    for (const auto& e : events) {
      if (e.kind == EventKind::kDeadlineMiss) misses.push_back(e);
    }
  }
  std::vector<Event> misses;
};

TEST(DeadlineAtTest, EachAnchor) {
  store::RunRow run;
  run.logical_date = 1'000'000;
  run.interval_end = 5'000'000;
  dag::Deadline d;
  d.within = absl::Hours(2);
  d.after = dag::DeadlineAnchor::kIntervalEnd;
  EXPECT_EQ(DeadlineAt(d, run), 5'000'000 + 7'200'000);
  d.after = dag::DeadlineAnchor::kLogicalDate;
  EXPECT_EQ(DeadlineAt(d, run), 1'000'000 + 7'200'000);
  d.after = dag::DeadlineAnchor::kRunStart;
  EXPECT_EQ(DeadlineAt(d, run), 0) << "not started: not known yet";
  run.started_at = 9'000'000;
  EXPECT_EQ(DeadlineAt(d, run), 9'000'000 + 7'200'000);
}

class DeadlinesTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    sched_->AddEventListener(&recorder_);
  }
  void Restart() {
    sched_.reset();
    sched_ = NewScheduler();
    sched_->AddEventListener(&recorder_);
    ASSERT_OK(sched_->Recover());
  }
  MissRecorder recorder_;
};

constexpr char kSla[] = R"(
dag: late
schedule: "@daily"
start_date: 2023-12-30
catchup: false
sla: 2h
tasks:
  - id: t
    type: noop
)";

TEST_F(DeadlinesTest, StoredAtCreationAndFiredAtTheDeadlineWhileQueued) {
  Submit(kSla);
  Advance(absl::ZeroDuration());  // creates the run for 2023-12-31 (interval end = now)
  auto runs = sched_->ListRuns("late", "", 10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->runs_size(), 1);
  const std::string run = runs->runs(0).run_id();
  EXPECT_EQ(Run(run).deadline_at, Ms(start_ + absl::Hours(2)));
  // No worker: the task never starts. Nothing fires a millisecond early.
  Advance(absl::Hours(2) - absl::Milliseconds(1));
  EXPECT_TRUE(recorder_.misses.empty());
  EXPECT_EQ(Run(run).deadline_missed_at, 0);
  Advance(absl::Milliseconds(1));
  ASSERT_EQ(recorder_.misses.size(), 1u);
  EXPECT_EQ(recorder_.misses[0].run_id, run);
  EXPECT_EQ(recorder_.misses[0].task, "");
  EXPECT_EQ(recorder_.misses[0].to_state, "running");
  EXPECT_EQ(recorder_.misses[0].at_ms, Ms(start_ + absl::Hours(2)));
  EXPECT_EQ(Run(run).deadline_missed_at, Ms(start_ + absl::Hours(2)));
  Advance(absl::Hours(1));
  EXPECT_EQ(recorder_.misses.size(), 1u) << "once per run";
  auto shown = sched_->GetRun(run);
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->deadline_ms(), Ms(start_ + absl::Hours(2)));
  EXPECT_EQ(shown->deadline_missed_at_ms(), Ms(start_ + absl::Hours(2)));
}

TEST_F(DeadlinesTest, ARunThatFinishesInTimeNeverFires) {
  Submit(kSla);
  ASSERT_OK_AND_ASSIGN(auto ack, Connect("w1"));
  Advance(absl::ZeroDuration());
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Succeed("w1", as[0]);
  Advance(absl::Hours(3));
  EXPECT_TRUE(recorder_.misses.empty());
}

TEST_F(DeadlinesTest, AnOverdueDeadlineFiresOnceAfterARestart) {
  Submit(kSla);
  Advance(absl::ZeroDuration());
  auto runs = sched_->ListRuns("late", "", 10);
  ASSERT_TRUE(runs.ok());
  const std::string run = runs->runs(0).run_id();
  sched_.reset();  // the scheduler is down when the deadline passes
  clock_.Advance(absl::Hours(5));
  Restart();
  sched_->ProcessTimers();
  ASSERT_EQ(recorder_.misses.size(), 1u);
  EXPECT_EQ(Run(run).deadline_missed_at, NowMs());
  Restart();
  sched_->ProcessTimers();
  EXPECT_EQ(recorder_.misses.size(), 1u) << "stored as missed: not fired again";
}

TEST_F(DeadlinesTest, TaskDeadlineAfterRunStartFiresWhileTheTaskRuns) {
  Submit(R"(
dag: hung
tasks:
  - id: slow
    type: noop
    deadline: { after: run_start, within: 10m }
  - id: next
    type: noop
    needs: [slow]
    deadline: { after: logical_date, within: 1h }
)");
  ASSERT_OK_AND_ASSIGN(auto ack, Connect("w1"));
  const std::string run = Trigger("hung");
  ASSERT_EQ(Channel("w1").TakeAssignments().size(), 1u);
  auto tis = Tis(run);
  EXPECT_EQ(tis["slow"].deadline_at, NowMs() + 600'000);
  EXPECT_EQ(tis["next"].deadline_at, NowMs() + 3'600'000);
  const int64_t attempt = Attempts(run, "slow")[0].attempt_id;
  for (int i = 0; i < 10; ++i) {  // the worker stays alive and the task keeps running
    clock_.Advance(absl::Minutes(1));
    Heartbeat("w1", {attempt});
    sched_->ProcessTimers();
  }
  ASSERT_EQ(recorder_.misses.size(), 1u);
  EXPECT_EQ(recorder_.misses[0].task, "slow");
  EXPECT_EQ(recorder_.misses[0].to_state, "running");
  EXPECT_EQ(Tis(run)["slow"].deadline_missed_at, NowMs());
  EXPECT_EQ(Tis(run)["next"].deadline_missed_at, 0);
  EXPECT_EQ(TaskStates(run)["slow"], "running");
}

}  // namespace
}  // namespace de::sched
