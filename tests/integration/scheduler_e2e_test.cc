// End to end: real de-scheduler and de-worker processes, shell tasks, retries, timeouts, and
// kill -9 of a worker and of the scheduler in the middle of a run.
#include <signal.h>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

const v1::TaskInstance& Task(const v1::Run& run, const std::string& id) {
  for (const auto& t : run.tasks()) {
    if (t.task_id() == id) return t;
  }
  static v1::TaskInstance none;
  ADD_FAILURE() << "no task " << id << " in run " << run.run_id();
  return none;
}

std::vector<v1::Attempt> Attempts(const v1::Run& run, const std::string& task) {
  std::vector<v1::Attempt> out;
  for (const auto& a : run.attempts()) {
    if (a.task_id() == task) out.push_back(a);
  }
  return out;
}

int CountState(const std::vector<v1::Attempt>& attempts, const std::string& state) {
  int n = 0;
  for (const auto& a : attempts) n += a.state() == state;
  return n;
}

// Replaces DATA in a YAML template with the cluster's data folder.
std::string WithData(const Cluster& c, std::string yaml) {
  return absl::StrReplaceAll(yaml, {{"DATA", c.data("")}});
}

TEST(SchedulerE2E, DiamondRunsInDependencyOrderAcrossTwoWorkers) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1");
  c.StartWorker("w2");
  c.Submit(R"(
dag: diamond
tasks:
  - id: extract
    type: shell
    with: { command: "echo extracting {{ ds }} for {{ dag }}" }
  - id: left
    type: shell
    needs: [extract]
    with: { command: "echo left side; echo to stderr >&2" }
  - id: right
    type: shell
    needs: [extract]
    with: { command: [echo, right side] }
  - id: load
    type: shell
    needs: [left, right]
    with: { command: "echo loading $DE_TASK try $DE_TRY_NUMBER" }
)");
  std::string run_id = c.Trigger("diamond");
  v1::Run run = c.WaitRunDone(run_id);
  ASSERT_EQ(run.state(), "success") << run.DebugString() << c.Logs();
  for (const auto* id : {"extract", "left", "right", "load"}) {
    EXPECT_EQ(Task(run, id).state(), "success") << id;
    EXPECT_EQ(Task(run, id).try_number(), 1) << id;
  }
  // Order from the recorded times: a task starts only after all its needs ended.
  const auto& e = Task(run, "extract");
  const auto& l = Task(run, "left");
  const auto& r = Task(run, "right");
  const auto& d = Task(run, "load");
  EXPECT_LE(e.ended_at_ms(), l.started_at_ms());
  EXPECT_LE(e.ended_at_ms(), r.started_at_ms());
  EXPECT_LE(std::max(l.ended_at_ms(), r.ended_at_ms()), d.started_at_ms());
  EXPECT_TRUE(absl::StrContains(c.TaskLog(run_id, "extract"), "extracting 20"))
      << c.TaskLog(run_id, "extract");
  EXPECT_TRUE(absl::StrContains(c.TaskLog(run_id, "extract"), "for diamond"));
  std::string left_log = c.TaskLog(run_id, "left");
  EXPECT_TRUE(absl::StrContains(left_log, "left side")) << left_log;
  EXPECT_TRUE(absl::StrContains(left_log, "to stderr")) << left_log;
  EXPECT_TRUE(absl::StrContains(c.TaskLog(run_id, "right"), "right side"));
  EXPECT_TRUE(absl::StrContains(c.TaskLog(run_id, "load"), "loading load try 1"));
}

TEST(SchedulerE2E, FailsTwiceThenSucceedsWithRetriesVisibleAsAttempts) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1");
  c.Submit(WithData(c, R"(
dag: flaky
tasks:
  - id: flaky
    type: shell
    retries: 2
    retry_delay: 50ms
    retry_backoff: exponential
    with:
      command: |
        n=$(cat DATA/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > DATA/count
        echo "try $n"
        [ $n -ge 3 ] || { echo "failing on purpose"; exit 7; }
  - id: after
    type: shell
    needs: [flaky]
    with: { command: "echo after" }
)"));
  std::string run_id = c.Trigger("flaky");
  v1::Run run = c.WaitRunDone(run_id);
  ASSERT_EQ(run.state(), "success") << run.DebugString();
  EXPECT_EQ(Task(run, "flaky").try_number(), 3);
  auto attempts = Attempts(run, "flaky");
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].state(), "failed");
  EXPECT_EQ(attempts[0].exit_code(), 7);
  EXPECT_EQ(attempts[1].state(), "failed");
  EXPECT_EQ(attempts[2].state(), "success");
  // Exponential backoff: the second retry waited at least twice the base delay.
  EXPECT_GE(attempts[1].started_at_ms() - attempts[0].ended_at_ms(), 50);
  EXPECT_GE(attempts[2].started_at_ms() - attempts[1].ended_at_ms(), 100);
  EXPECT_TRUE(absl::StrContains(c.TaskLog(run_id, "flaky", 1), "failing on purpose"));
  EXPECT_TRUE(absl::StrContains(c.TaskLog(run_id, "flaky", 3), "try 3"));
}

TEST(SchedulerE2E, FailureMarksDownstreamUpstreamFailed) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1");
  c.Submit(R"(
dag: broken
tasks:
  - { id: a, type: shell, with: { command: "exit 3" } }
  - { id: b, type: shell, needs: [a], with: { command: "echo b" } }
  - { id: c, type: shell, needs: [b], with: { command: "echo c" } }
  - { id: side, type: noop }
)");
  v1::Run run = c.WaitRunDone(c.Trigger("broken"));
  EXPECT_EQ(run.state(), "failed");
  EXPECT_EQ(Task(run, "a").state(), "failed");
  EXPECT_EQ(Task(run, "b").state(), "upstream_failed");
  EXPECT_EQ(Task(run, "c").state(), "upstream_failed");
  EXPECT_EQ(Task(run, "side").state(), "success");
  EXPECT_EQ(Attempts(run, "b").size(), 0u);
}

TEST(SchedulerE2E, TaskOverItsTimeoutIsKilledAndRetried) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1");
  c.Submit(WithData(c, R"(
dag: slow
tasks:
  - id: slow
    type: shell
    retries: 1
    retry_delay: 10ms
    timeout: 700ms
    with:
      command: |
        if [ ! -f DATA/first ]; then
          touch DATA/first
          sleep 60 &
          echo $! > DATA/sleeper.pid
          wait
        fi
        echo "second try is quick"
)"));
  std::string run_id = c.Trigger("slow");
  v1::Run run = c.WaitRunDone(run_id);
  ASSERT_EQ(run.state(), "success") << run.DebugString();
  auto attempts = Attempts(run, "slow");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].state(), "timed_out");
  EXPECT_EQ(attempts[1].state(), "success");
  // The whole process group was killed: the backgrounded sleep is gone too.
  pid_t sleeper = std::stoi(ReadFile(c.data("sleeper.pid")));
  EXPECT_TRUE(WaitUntil([&] { return kill(sleeper, 0) != 0; }, absl::Seconds(5)));
}

TEST(SchedulerE2E, KilledWorkerLosesItsTaskWhichCompletesOnTheOtherWorkerOnce) {
  Cluster c;
  c.StartScheduler();
  Process* w1 = c.StartWorker("w1", 1);
  c.Submit(WithData(c, R"(
dag: survive
tasks:
  - id: work
    type: shell
    with:
      command: |
        echo "$DE_TRY_NUMBER" >> DATA/starts
        echo $$ > DATA/pid-$DE_TRY_NUMBER
        while [ ! -f DATA/go ]; do sleep 0.02; done
        echo done
)"));
  std::string run_id = c.Trigger("survive");
  ASSERT_TRUE(WaitUntil([&] { return FileExists(c.data("starts")); }));
  ASSERT_EQ(Task(c.GetRun(run_id), "work").worker(), "w1");
  w1->Kill(SIGKILL);
  w1->Wait();
  // The task of the dead worker dies with it: it cannot run on alongside its retry.
  ASSERT_TRUE(WaitUntil([&] { return FileExists(c.data("pid-1")); }));
  pid_t orphan = std::stoi(ReadFile(c.data("pid-1")));
  EXPECT_TRUE(WaitUntil([&] { return kill(orphan, 0) != 0; }, absl::Seconds(10)));
  c.StartWorker("w2", 1);
  WriteFile(c.data("go"), "");
  v1::Run run = c.WaitRunDone(run_id);
  ASSERT_EQ(run.state(), "success") << run.DebugString();
  auto attempts = Attempts(run, "work");
  ASSERT_EQ(attempts.size(), 2u) << run.DebugString();
  EXPECT_EQ(attempts[0].worker(), "w1");
  EXPECT_EQ(attempts[0].state(), "lost");
  EXPECT_EQ(attempts[1].worker(), "w2");
  EXPECT_EQ(attempts[1].state(), "success");
  EXPECT_EQ(CountState(attempts, "success"), 1);
  EXPECT_EQ(Task(run, "work").state(), "success");
}

TEST(SchedulerE2E, SchedulerKilledMidRunResumesWithoutRerunningOrLosingTasks) {
  Cluster c;
  const std::string listen = absl::StrCat("127.0.0.1:", FreePort());
  c.StartScheduler(listen);
  c.StartWorker("w1", 2);
  c.Submit(WithData(c, R"(
dag: resume
tasks:
  - { id: first, type: shell, with: { command: "echo first >> DATA/ran" } }
  - id: middle
    type: shell
    needs: [first]
    with:
      command: |
        echo middle-start >> DATA/ran
        while [ ! -f DATA/go ]; do sleep 0.02; done
        echo middle-end >> DATA/ran
  - { id: last, type: shell, needs: [middle], with: { command: "echo last >> DATA/ran" } }
)"));
  std::string run_id = c.Trigger("resume");
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(ReadFile(c.data("ran")), "middle-start");
  }));
  c.KillScheduler(SIGKILL);
  // The task finishes while the scheduler is down; the worker holds the result.
  WriteFile(c.data("go"), "");
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(ReadFile(c.data("ran")), "middle-end"); }));
  c.StartScheduler(listen);
  v1::Run run = c.WaitRunDone(run_id);
  ASSERT_EQ(run.state(), "success") << run.DebugString() << c.Logs();
  EXPECT_EQ(ReadFile(c.data("ran")), "first\nmiddle-start\nmiddle-end\nlast\n");
  for (const auto* id : {"first", "middle", "last"}) {
    auto attempts = Attempts(run, id);
    EXPECT_EQ(attempts.size(), 1u) << id << "\n" << run.DebugString();
    EXPECT_EQ(CountState(attempts, "success"), 1) << id;
  }
}

}  // namespace
}  // namespace de::testing
