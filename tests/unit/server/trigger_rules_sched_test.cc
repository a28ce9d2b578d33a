// Trigger rules in the scheduler, driven without threads (the SchedulerTest fixture: a
// FakeClock, recording worker channels, committed state read through a second connection):
// each of the six rules decides when a task is assigned, a cleanup runs after a failure while
// the run still ends failed, retries are waited for, and clearing re-decides the dependants.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/server/scheduler_fixture.h"

namespace de::sched {
namespace {

using States = std::map<std::string, std::string>;

constexpr char kCleanup[] = R"(
dag: cleanup
tasks:
  - { id: extract, type: noop }
  - { id: load, type: noop, needs: [extract] }
  - { id: cleanup, type: noop, needs: [extract, load], trigger_rule: all_done }
)";

class TriggerRulesSchedTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    ASSERT_OK(Connect("w1", 8).status());
  }
  // Task ids assigned since the previous call, sorted.
  std::vector<std::string> Assigned() {
    std::vector<v1::Assignment> as = Channel("w1").TakeAssignments();
    seen_.insert(seen_.end(), as.begin(), as.end());
    std::vector<std::string> ids = TaskIds(as);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  // The latest attempt of `task` assigned in this run.
  v1::Assignment Of(const std::string& task) {
    for (auto it = seen_.rbegin(); it != seen_.rend(); ++it) {
      if (it->task_id() == task) return *it;
    }
    ADD_FAILURE() << "task " << task << " was not assigned";
    return {};
  }
  void Ok(const std::string& task) { Succeed("w1", Of(task)); }
  void Bad(const std::string& task) { Fail("w1", Of(task)); }
  // A new run: forgets the previous run's attempts.
  std::string NewRun(const std::string& dag) {
    seen_.clear();
    return Trigger(dag);
  }

  std::vector<v1::Assignment> seen_;
};

TEST_F(TriggerRulesSchedTest, AllDoneCleanupRunsAfterAFailureAndTheRunStillFails) {
  Submit(kCleanup);
  const std::string run_id = NewRun("cleanup");
  ASSERT_THAT(Assigned(), ElementsAre("extract"));
  Bad("extract");
  EXPECT_EQ(TaskStates(run_id),
            (States{{"extract", "failed"}, {"load", "upstream_failed"}, {"cleanup", "running"}}));
  ASSERT_THAT(Assigned(), ElementsAre("cleanup"));
  EXPECT_EQ(Run(run_id).state, "running") << "the cleanup is still to run";
  Ok("cleanup");
  EXPECT_EQ(TaskStates(run_id)["cleanup"], "success");
  store::RunRow run = Run(run_id);
  EXPECT_EQ(run.state, "failed") << "a failed task fails the run whatever ran after it";
  EXPECT_GT(run.ended_at, 0);
  EXPECT_EQ(Attempts(run_id, "load").size(), 0u);

  // When everything succeeds the cleanup runs last and the run succeeds.
  const std::string ok_id = NewRun("cleanup");
  ASSERT_THAT(Assigned(), ElementsAre("extract"));
  Ok("extract");
  ASSERT_THAT(Assigned(), ElementsAre("load")) << "cleanup waits for all its upstreams";
  Ok("load");
  ASSERT_THAT(Assigned(), ElementsAre("cleanup"));
  Ok("cleanup");
  EXPECT_EQ(Run(ok_id).state, "success");
}

TEST_F(TriggerRulesSchedTest, AnUpstreamUpForRetryIsNotFailedYet) {
  Submit(R"(
dag: retry
tasks:
  - { id: extract, type: noop, retries: 1, retry_delay: 30s }
  - { id: cleanup, type: noop, needs: [extract], trigger_rule: all_done }
  - { id: alert, type: noop, needs: [extract], trigger_rule: one_failed }
)");
  const std::string run_id = NewRun("retry");
  ASSERT_THAT(Assigned(), ElementsAre("extract"));
  Bad("extract");
  EXPECT_EQ(
      TaskStates(run_id),
      (States{{"extract", "up_for_retry"}, {"cleanup", "scheduled"}, {"alert", "scheduled"}}));
  EXPECT_THAT(Assigned(), IsEmpty());
  Advance(absl::Seconds(31));
  ASSERT_THAT(Assigned(), ElementsAre("extract"));
  Ok("extract");
  EXPECT_EQ(TaskStates(run_id)["alert"], "skipped") << "the retry succeeded: nothing failed";
  ASSERT_THAT(Assigned(), ElementsAre("cleanup"));
  Ok("cleanup");
  EXPECT_EQ(Run(run_id).state, "success") << "a skipped task does not fail the run";
}

TEST_F(TriggerRulesSchedTest, OneFailedRunsAtTheFirstFailureWithoutWaitingForTheRest) {
  Submit(R"(
dag: alerting
tasks:
  - { id: a, type: noop }
  - { id: b, type: noop }
  - { id: alert, type: noop, needs: [a, b], trigger_rule: one_failed }
)");
  const std::string run_id = NewRun("alerting");
  ASSERT_THAT(Assigned(), ElementsAre("a", "b"));
  Bad("a");
  ASSERT_THAT(Assigned(), ElementsAre("alert")) << "b is still running";
  EXPECT_EQ(TaskStates(run_id)["b"], "running");
  Ok("alert");
  Ok("b");
  EXPECT_EQ(Run(run_id).state, "failed");

  const std::string quiet = NewRun("alerting");
  ASSERT_THAT(Assigned(), ElementsAre("a", "b"));
  Ok("a");
  EXPECT_EQ(TaskStates(quiet)["alert"], "scheduled") << "b may still fail";
  Ok("b");
  EXPECT_THAT(Assigned(), IsEmpty());
  EXPECT_EQ(TaskStates(quiet)["alert"], "skipped");
  EXPECT_EQ(Run(quiet).state, "success");
}

TEST_F(TriggerRulesSchedTest, AllFailedRunsOnlyWhenEveryUpstreamFailed) {
  Submit(R"(
dag: fallback
tasks:
  - { id: a, type: noop }
  - { id: b, type: noop }
  - { id: handler, type: noop, needs: [a, b], trigger_rule: all_failed }
)");
  const std::string run_id = NewRun("fallback");
  ASSERT_THAT(Assigned(), ElementsAre("a", "b"));
  Bad("a");
  EXPECT_THAT(Assigned(), IsEmpty()) << "b may still succeed";
  Bad("b");
  ASSERT_THAT(Assigned(), ElementsAre("handler"));
  Ok("handler");
  EXPECT_EQ(Run(run_id).state, "failed");

  const std::string partly = NewRun("fallback");
  ASSERT_THAT(Assigned(), ElementsAre("a", "b"));
  Ok("a");
  EXPECT_EQ(TaskStates(partly)["handler"], "skipped") << "decided at once, b still running";
  Bad("b");
  EXPECT_THAT(Assigned(), IsEmpty());
  EXPECT_EQ(TaskStates(partly)["handler"], "skipped");
  EXPECT_EQ(Run(partly).state, "failed");
}

TEST_F(TriggerRulesSchedTest, OneSuccessRunsAtTheFirstSuccessAndFailsWhenNoneSucceeds) {
  Submit(R"(
dag: mirrors
tasks:
  - { id: a, type: noop }
  - { id: b, type: noop }
  - { id: any, type: noop, needs: [a, b], trigger_rule: one_success }
  - { id: after, type: noop, needs: [any] }
)");
  const std::string run_id = NewRun("mirrors");
  ASSERT_THAT(Assigned(), ElementsAre("a", "b"));
  Ok("b");
  ASSERT_THAT(Assigned(), ElementsAre("any")) << "a is still running";
  Ok("any");
  ASSERT_THAT(Assigned(), ElementsAre("after"));
  Ok("after");
  Bad("a");
  EXPECT_EQ(Run(run_id).state, "failed") << "a failed";

  const std::string none = NewRun("mirrors");
  ASSERT_THAT(Assigned(), ElementsAre("a", "b"));
  Bad("a");
  EXPECT_EQ(TaskStates(none)["any"], "scheduled") << "b may still succeed";
  Bad("b");
  EXPECT_THAT(Assigned(), IsEmpty());
  EXPECT_EQ(TaskStates(none), (States{{"a", "failed"},
                                      {"b", "failed"},
                                      {"any", "upstream_failed"},
                                      {"after", "upstream_failed"}}));
  EXPECT_EQ(Run(none).state, "failed");
}

// none_failed and all_success (named explicitly) downstream of a skipped task, and
// none_failed after a failure.
TEST_F(TriggerRulesSchedTest, NoneFailedAcceptsSkippedUpstreamsWhereAllSuccessSkips) {
  Submit(R"(
dag: branches
tasks:
  - { id: a, type: noop }
  - { id: alert, type: noop, needs: [a], trigger_rule: one_failed }
  - { id: tolerant, type: noop, needs: [a, alert], trigger_rule: none_failed }
  - { id: strict, type: noop, needs: [a, alert], trigger_rule: all_success }
  - { id: after_strict, type: noop, needs: [strict] }
)");
  const std::string run_id = NewRun("branches");
  ASSERT_THAT(Assigned(), ElementsAre("a"));
  Ok("a");
  ASSERT_THAT(Assigned(), ElementsAre("tolerant"));
  EXPECT_EQ(TaskStates(run_id), (States{{"a", "success"},
                                        {"alert", "skipped"},
                                        {"tolerant", "running"},
                                        {"strict", "skipped"},
                                        {"after_strict", "skipped"}}));
  Ok("tolerant");
  EXPECT_EQ(Run(run_id).state, "success");

  const std::string failed = NewRun("branches");
  ASSERT_THAT(Assigned(), ElementsAre("a"));
  Bad("a");
  ASSERT_THAT(Assigned(), ElementsAre("alert"));
  EXPECT_EQ(TaskStates(failed)["tolerant"], "upstream_failed");
  EXPECT_EQ(TaskStates(failed)["strict"], "upstream_failed");
  Ok("alert");
  EXPECT_EQ(TaskStates(failed)["after_strict"], "upstream_failed");
  EXPECT_EQ(Run(failed).state, "failed");
}

TEST_F(TriggerRulesSchedTest, ClearingTheFailedTaskRerunsTheCleanupThatRanAfterIt) {
  Submit(kCleanup);
  const std::string run_id = NewRun("cleanup");
  ASSERT_THAT(Assigned(), ElementsAre("extract"));
  Bad("extract");
  ASSERT_THAT(Assigned(), ElementsAre("cleanup"));
  Ok("cleanup");
  ASSERT_EQ(Run(run_id).state, "failed");

  v1::ClearRunRequest req;
  req.set_run_id(run_id);
  req.add_task_ids("extract");
  ASSERT_OK(sched_->ClearRun(req).status());
  EXPECT_EQ(TaskStates(run_id),
            (States{{"extract", "running"}, {"load", "scheduled"}, {"cleanup", "scheduled"}}))
      << "load and cleanup were decided by extract's failure";
  EXPECT_EQ(Run(run_id).state, "running");
  seen_.clear();
  ASSERT_THAT(Assigned(), ElementsAre("extract"));
  Ok("extract");
  ASSERT_THAT(Assigned(), ElementsAre("load"));
  Ok("load");
  ASSERT_THAT(Assigned(), ElementsAre("cleanup"));
  Ok("cleanup");
  EXPECT_EQ(Run(run_id).state, "success");
  EXPECT_EQ(Attempts(run_id, "cleanup").size(), 2u);
}

TEST_F(TriggerRulesSchedTest, AClearedTaskThatItsRuleSkipsAgainFinishesTheRun) {
  Submit(R"(
dag: guarded
tasks:
  - { id: a, type: noop }
  - { id: handler, type: noop, needs: [a], trigger_rule: all_failed }
)");
  const std::string run_id = NewRun("guarded");
  ASSERT_THAT(Assigned(), ElementsAre("a"));
  Ok("a");
  ASSERT_EQ(Run(run_id).state, "success");
  ASSERT_EQ(TaskStates(run_id)["handler"], "skipped");

  v1::ClearRunRequest req;
  req.set_run_id(run_id);
  req.add_task_ids("handler");
  ASSERT_OK(sched_->ClearRun(req).status());
  EXPECT_THAT(Assigned(), IsEmpty());
  EXPECT_EQ(TaskStates(run_id)["handler"], "skipped");
  EXPECT_EQ(Run(run_id).state, "success") << "not left running with nothing to do";
}

TEST_F(TriggerRulesSchedTest, GetDagShowsEachTasksRule) {
  Submit(kCleanup);
  auto dag = sched_->GetDag("cleanup", 0);
  ASSERT_OK(dag.status());
  std::map<std::string, std::string> rules;
  for (const auto& t : dag->tasks()) rules[t.task_id()] = t.trigger_rule();
  EXPECT_EQ(rules,
            (States{{"extract", "all_success"}, {"load", "all_success"}, {"cleanup", "all_done"}}));
}

}  // namespace
}  // namespace de::sched
