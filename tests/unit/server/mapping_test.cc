// Mapped tasks (for_each) in the scheduler: expansion, max_parallel, per-instance retries,
// downstream waiting for all instances, the mapper step, and expansion surviving a restart.
#include <set>

#include "common/limits.h"
#include "tests/unit/server/scheduler_fixture.h"

namespace de::sched {
namespace {

class MappingTest : public SchedulerTest {
 protected:
  // A mapper step's result: the worker writes {"ok":true,...,"summary":{"items":[...]}}.
  void SucceedWithItems(const std::string& worker, const v1::Assignment& a,
                        const std::vector<std::string>& items) {
    v1::WorkerMessage m;
    v1::TaskResult* r = m.mutable_result();
    r->set_attempt_id(a.attempt_id());
    r->set_success(true);
    std::string json = "{\"ok\":true,\"summary\":{\"items\":[";
    for (size_t i = 0; i < items.size(); ++i) {
      absl::StrAppend(&json, i ? "," : "", "\"", items[i], "\"");
    }
    absl::StrAppend(&json, "]}}");
    r->set_summary(json);
    sched_->OnWorkerMessage(worker, Session(worker), m);
  }
  int CountState(const std::string& run_id, const std::string& prefix, const std::string& state) {
    int n = 0;
    for (const auto& [id, t] : Tis(run_id)) {
      n += id.starts_with(prefix + "[") && t.state == state;
    }
    return n;
  }
};

constexpr char kMapped[] = R"(
dag: mapped
tasks:
  - id: conv
    type: shell
    for_each: [a, b, c]
    with: { command: "echo {{ item }} at {{ map_index }}" }
  - { id: after, type: noop, needs: [conv] }
)";

TEST_F(MappingTest, OneInstancePerItemAndDownstreamWaitsForAll) {
  for (const char* w : {"w1", "w2", "w3"}) ASSERT_OK(Connect(w, 2).status());
  Submit(kMapped);
  const std::string run_id = Trigger("mapped");
  std::map<std::string, std::pair<std::string, v1::Assignment>> by_task;
  for (const char* w : {"w1", "w2", "w3"}) {
    for (const auto& a : Channel(w).TakeAssignments()) by_task[a.task_id()] = {w, a};
  }
  ASSERT_EQ(by_task.size(), 3u);
  std::set<std::string> workers;
  for (int i = 0; i < 3; ++i) {
    const std::string id = absl::StrCat("conv[", i, "]");
    ASSERT_TRUE(by_task.count(id)) << id;
    const v1::Assignment& a = by_task[id].second;
    workers.insert(by_task[id].first);
    EXPECT_THAT(a.params_yaml(), HasSubstr(absl::StrCat("echo '", std::string(1, "abc"[i]), "' at '", i, "'")));
    EXPECT_EQ(a.env().at("DE_ITEM"), std::string(1, "abc"[i]));
    EXPECT_EQ(a.env().at("DE_MAP_INDEX"), absl::StrCat(i));
    EXPECT_EQ(a.env().at("DE_TASK"), "conv");
  }
  EXPECT_EQ(workers.size(), 3u) << "spread over the workers";
  auto tis = Tis(run_id);
  EXPECT_EQ(tis["conv"].state, "running");
  EXPECT_EQ(tis["conv[1]"].map_index, 1);
  EXPECT_EQ(tis["conv[1]"].map_item, "b");
  EXPECT_EQ(tis["after"].state, "scheduled");

  Succeed(by_task["conv[0]"].first, by_task["conv[0]"].second);
  Succeed(by_task["conv[2]"].first, by_task["conv[2]"].second);
  EXPECT_EQ(Tis(run_id)["after"].state, "scheduled") << "one instance still running";
  for (const char* w : {"w1", "w2", "w3"}) EXPECT_THAT(Channel(w).TakeAssignments(), IsEmpty());
  Succeed(by_task["conv[1]"].first, by_task["conv[1]"].second);
  EXPECT_EQ(Tis(run_id)["conv"].state, "success");
  EXPECT_EQ(Tis(run_id)["conv"].counters.at("success"), 3);
  std::vector<v1::Assignment> after;
  std::string after_worker;
  for (const char* w : {"w1", "w2", "w3"}) {
    for (const auto& a : Channel(w).TakeAssignments()) {
      after.push_back(a);
      after_worker = w;
    }
  }
  ASSERT_THAT(TaskIds(after), ElementsAre("after"));
  Succeed(after_worker, after[0]);
  EXPECT_EQ(Run(run_id).state, "success");
  EXPECT_EQ(Attempts(run_id, "after").size(), 1u);

  ASSERT_OK_AND_ASSIGN(v1::Run run, sched_->GetRun(run_id));
  int instances = 0;
  for (const auto& t : run.tasks()) {
    if (t.map_task() == "conv") ++instances;
    if (t.task_id() == "conv") EXPECT_EQ(t.map_count(), 3);
    if (t.task_id() == "conv[2]") {
      EXPECT_EQ(t.map_index(), 2);
      EXPECT_EQ(t.map_item(), "c");
      EXPECT_EQ(t.type(), "shell");
    }
  }
  EXPECT_EQ(instances, 3);
}

TEST_F(MappingTest, MaxParallelLimitsInstancesQueuedOrRunning) {
  ASSERT_OK(Connect("w1", 10).status());
  Submit(R"(
dag: par
tasks:
  - { id: m, type: noop, for_each: [1, 2, 3, 4, 5], max_parallel: 2 }
)");
  const std::string run_id = Trigger("par");
  std::set<std::string> seen;
  for (int round = 0; round < 10 && seen.size() < 5; ++round) {
    auto as = Channel("w1").TakeAssignments();
    EXPECT_LE(CountState(run_id, "m", "running"), 2);
    EXPECT_EQ(CountState(run_id, "m", "queued"), 0);
    ASSERT_FALSE(as.empty());
    EXPECT_LE(as.size(), 2u);
    for (const auto& a : as) {
      seen.insert(a.task_id());
      Succeed("w1", a);
    }
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(CountState(run_id, "m", "success"), 5);
  EXPECT_EQ(Run(run_id).state, "success");
}

TEST_F(MappingTest, EachInstanceRetriesOnItsOwnAndAFailureFailsTheMappedTask) {
  ASSERT_OK(Connect("w1", 5).status());
  Submit(R"(
dag: retry
tasks:
  - { id: m, type: noop, for_each: [x, y, z], retries: 1, retry_delay: 10s }
  - { id: after, type: noop, needs: [m] }
)");
  const std::string run_id = Trigger("retry");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 3u);
  Fail("w1", *FindAssignment(as, "m[1]"));
  EXPECT_EQ(Tis(run_id)["m[1]"].state, "up_for_retry");
  Succeed("w1", *FindAssignment(as, "m[0]"));
  EXPECT_EQ(Tis(run_id)["m"].state, "running");
  Advance(absl::Seconds(5));
  Heartbeat("w1", {FindAssignment(as, "m[2]")->attempt_id()});   // m[2] keeps running meanwhile
  Advance(absl::Seconds(5));
  auto again = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(again), ElementsAre("m[1]"));
  EXPECT_EQ(again[0].try_number(), 2);
  Fail("w1", again[0]);   // its last try
  EXPECT_EQ(Tis(run_id)["m[1]"].state, "failed");
  EXPECT_EQ(Tis(run_id)["m"].state, "running") << "m[2] is still running";
  EXPECT_EQ(Tis(run_id)["after"].state, "scheduled");
  Succeed("w1", *FindAssignment(as, "m[2]"));
  auto tis = Tis(run_id);
  EXPECT_EQ(tis["m"].state, "failed");
  EXPECT_EQ(tis["m"].error, "1 of 3 instances did not succeed");
  EXPECT_EQ(tis["after"].state, "upstream_failed");
  EXPECT_EQ(tis["m[0]"].try_number, 1);
  EXPECT_EQ(tis["m[2]"].try_number, 1);
  EXPECT_EQ(Run(run_id).state, "failed");

  // Clearing the failed ones re-runs only m[1] (the items are kept).
  v1::ClearRunRequest req;
  req.set_run_id(run_id);
  req.set_failed_only(true);
  ASSERT_OK(sched_->ClearRun(req).status());
  as = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(as), ElementsAre("m[1]"));
  Succeed("w1", as[0]);
  as = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(as), ElementsAre("after"));
  Succeed("w1", as[0]);
  EXPECT_EQ(Run(run_id).state, "success");
  EXPECT_EQ(Attempts(run_id, "m[0]").size(), 1u);
}

TEST_F(MappingTest, ParamItemsAndAnEmptyListSkips) {
  ASSERT_OK(Connect("w1", 5).status());
  Submit(R"(
dag: prm
params: { files: { type: list, default: [] } }
tasks:
  - { id: m, type: noop, for_each: { param: files } }
  - { id: after, type: noop, needs: [m], trigger_rule: none_failed }
  - { id: strict, type: noop, needs: [m] }
)");
  const std::string empty = Trigger("prm");
  EXPECT_EQ(Tis(empty)["m"].state, "skipped");
  // As after any skipped upstream: all_success (the default) is skipped, none_failed runs.
  EXPECT_EQ(Tis(empty)["strict"].state, "skipped");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(as), ElementsAre("after")) << "none_failed after a skipped task runs";
  Succeed("w1", as[0]);
  EXPECT_EQ(Run(empty).state, "success");

  const std::string two = Trigger("prm", {{"files", "a.csv, b.csv"}});
  as = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(as), UnorderedElementsAre("m[0]", "m[1]"));
  EXPECT_EQ(Tis(two)["m[1]"].map_item, "b.csv");
}

TEST_F(MappingTest, GlobIsListedByAWorkerThenExpanded) {
  ASSERT_OK(Connect("w1", 5).status());
  Submit(R"(
dag: glb
tasks:
  - id: m
    type: csv_to_parquet
    for_each: { glob: "raw/{{ ds }}/*.csv" }
    with: { input: "{{ item }}", output: "lake/t/part={{ map_index }}" }
)");
  const std::string run_id = Trigger("glb");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].task_id(), "m");
  EXPECT_EQ(as[0].type(), "for_each_items");
  EXPECT_THAT(as[0].params_yaml(), HasSubstr("glob: raw/2024-01-01/*.csv"));
  EXPECT_EQ(Tis(run_id)["m"].state, "running");
  SucceedWithItems("w1", as[0], {"raw/a.csv", "raw/b.csv"});
  as = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(as), UnorderedElementsAre("m[0]", "m[1]"));
  EXPECT_EQ(FindAssignment(as, "m[1]")->type(), "csv_to_parquet");
  EXPECT_THAT(FindAssignment(as, "m[1]")->params_yaml(), HasSubstr("\"raw/b.csv\""));
  EXPECT_THAT(FindAssignment(as, "m[1]")->params_yaml(), HasSubstr("lake/t/part=1"));
  for (const auto& a : as) Succeed("w1", a);
  EXPECT_EQ(Tis(run_id)["m"].state, "success");
  EXPECT_EQ(Run(run_id).state, "success");
}

TEST_F(MappingTest, AMapperFindingNothingSkipsAndTooManyItemsFail) {
  ASSERT_OK(Connect("w1", 5).status());
  Submit(R"(
dag: glb
tasks:
  - { id: m, type: noop, for_each: { glob: "raw/*.csv" } }
)");
  const std::string none = Trigger("glb");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  SucceedWithItems("w1", as[0], {});
  EXPECT_EQ(Tis(none)["m"].state, "skipped");
  EXPECT_EQ(Run(none).state, "success");

  const std::string many = Trigger("glb");
  as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  std::vector<std::string> items(kMaxMapItems + 1, "f.csv");
  SucceedWithItems("w1", as[0], items);
  EXPECT_EQ(Tis(many)["m"].state, "failed");
  EXPECT_EQ(Tis(many)["m"].error, absl::StrCat("for_each has ", kMaxMapItems + 1,
                                               " items; a task maps over at most ", kMaxMapItems));
  EXPECT_EQ(Tis(many).size(), 1u) << "no instance rows";
  EXPECT_EQ(Run(many).state, "failed");
}

TEST_F(MappingTest, ExpansionSurvivesARestartWithoutDoubling) {
  ASSERT_OK(Connect("w1", 2).status());
  Submit(R"(
dag: rs
tasks:
  - { id: m, type: noop, for_each: [p, q, r, s], max_parallel: 2 }
  - { id: after, type: noop, needs: [m] }
)");
  const std::string run_id = Trigger("rs");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(as), ElementsAre("m[0]", "m[1]"));
  Succeed("w1", as[0]);
  auto next = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(next), ElementsAre("m[2]"));

  // The scheduler dies with m[1] and m[2] running; a new one loads the same database.
  std::unique_ptr<Scheduler> crashed = std::move(sched_);
  sched_ = NewScheduler();
  ASSERT_OK(sched_->Recover());
  EXPECT_EQ(Tis(run_id).size(), 6u) << "m, after and four instances: nothing doubled";
  ASSERT_OK(Connect("w1", 2, {}, {as[1].attempt_id(), next[0].attempt_id()}).status());
  EXPECT_THAT(Channel("w1").TakeAssignments(), IsEmpty()) << "max_parallel still holds";
  Succeed("w1", as[1]);
  auto last = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(last), ElementsAre("m[3]"));
  Succeed("w1", next[0]);
  Succeed("w1", last[0]);
  auto after = Channel("w1").TakeAssignments();
  ASSERT_THAT(TaskIds(after), ElementsAre("after"));
  Succeed("w1", after[0]);
  EXPECT_EQ(Run(run_id).state, "success");
  std::map<std::string, int> per_task;
  for (const auto& a : Attempts(run_id)) per_task[a.task_id]++;
  EXPECT_EQ(per_task, (std::map<std::string, int>{
                          {"m[0]", 1}, {"m[1]", 1}, {"m[2]", 1}, {"m[3]", 1}, {"after", 1}}));
}

TEST_F(MappingTest, AMapperResultCommittedOnceEvenIfReloadedBeforeIt) {
  // The mapper's result arrives after a restart (the worker kept it): expanded exactly once.
  ASSERT_OK(Connect("w1", 5).status());
  Submit(R"(
dag: glb
tasks:
  - { id: m, type: noop, for_each: { glob: "raw/*.csv" } }
)");
  const std::string run_id = Trigger("glb");
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  std::unique_ptr<Scheduler> crashed = std::move(sched_);
  sched_ = NewScheduler();
  ASSERT_OK(sched_->Recover());
  ASSERT_OK(Connect("w1", 5, {}, {as[0].attempt_id()}).status());
  SucceedWithItems("w1", as[0], {"a", "b"});
  SucceedWithItems("w1", as[0], {"a", "b"});   // sent again: ignored (attempt already ended)
  EXPECT_EQ(Tis(run_id).size(), 3u);
  auto inst = Channel("w1").TakeAssignments();
  EXPECT_THAT(TaskIds(inst), UnorderedElementsAre("m[0]", "m[1]"));
}

TEST_F(MappingTest, CancellingTheRunCancelsTheMappedTaskAndItsInstances) {
  ASSERT_OK(Connect("w1", 1).status());
  Submit(kMapped);
  const std::string run_id = Trigger("mapped");
  ASSERT_EQ(Channel("w1").TakeAssignments().size(), 1u);
  ASSERT_OK(sched_->CancelRun(run_id).status());
  auto tis = Tis(run_id);
  EXPECT_EQ(tis["conv"].state, "cancelled");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(tis[absl::StrCat("conv[", i, "]")].state, "cancelled");
  EXPECT_EQ(Run(run_id).state, "cancelled");
}

}  // namespace
}  // namespace de::sched
