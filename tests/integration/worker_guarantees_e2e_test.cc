// What a worker promises (README, Operations: failure paths): a result is delivered exactly once
// even when the connection it was sent on dies; a worker name is held by one live session; an
// attempt whose thread cannot start fails and the worker stays up; nothing an attempt started
// outlives it (not even a process that left with setsid); a task log is capped, keeping its tail.
#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

std::string WithData(const Cluster& c, const std::string& yaml) {
  return absl::StrReplaceAll(yaml, {{"DATA", c.data("")}});
}

int Lines(const std::string& text) {
  int n = 0;
  for (char ch : text) n += ch == '\n';
  return n;
}

TEST(WorkerGuaranteesE2E, ResultSentWhileTheSchedulerDiesIsCommittedWithoutARerun) {
  Cluster c;
  const std::string listen = absl::StrCat("127.0.0.1:", FreePort());
  c.StartScheduler(listen);
  Process* w = c.StartWorker("w1");
  const std::string run_id = c.TriggerHeld("once");
  ASSERT_TRUE(FileExists(c.data("ran")));
  // Frozen, the scheduler still has its connection open: the worker's result goes into it
  // (the write succeeds) and is then lost with the process.
  c.SignalScheduler(SIGSTOP);
  WriteFile(c.data("go"), "");
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(w->Log(), "succeeded"); })) << w->Log();
  c.KillScheduler(SIGKILL);
  c.StartScheduler(listen);
  v1::Run run = c.WaitRunDone(run_id);
  EXPECT_EQ(run.state(), "success") << run.DebugString() << c.Logs();
  EXPECT_EQ(ReadFile(c.data("ran")), "ran\n") << "the task ran again:\n" << c.Logs();
  ASSERT_EQ(run.attempts_size(), 1) << run.DebugString();
  EXPECT_EQ(run.attempts(0).state(), "success");
}

TEST(WorkerGuaranteesE2E, SecondWorkerWithTheSameNameIsRefused) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 2);
  Process twin({DE_WORKER_BIN, "--scheduler", c.address(), "--name", "w1", "--data-root",
                c.data("")},
               c.home() + "/twin.log");
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(twin.Log(), "already connected"); }))
      << twin.Log();
  EXPECT_TRUE(absl::StrContains(twin.Log(), "give each worker its own --name")) << twin.Log();
  c.Submit(WithData(c, R"(
dag: count
tasks:
  - { id: a, type: shell, with: { command: "echo a >> DATA/ran" } }
  - { id: b, type: shell, with: { command: "echo b >> DATA/ran" } }
  - { id: c, type: shell, with: { command: "echo c >> DATA/ran" } }
)"));
  v1::Run run = c.WaitRunDone(c.Trigger("count"));
  EXPECT_EQ(run.state(), "success") << c.Logs();
  EXPECT_EQ(Lines(ReadFile(c.data("ran"))), 3) << ReadFile(c.data("ran"));
  EXPECT_EQ(run.attempts_size(), 3) << run.DebugString();
  EXPECT_TRUE(c.WorkerConnected("w1"));
  EXPECT_TRUE(twin.Running()) << "refused, it keeps trying rather than crashing";
}

TEST(WorkerGuaranteesE2E, AttemptWhoseThreadCannotStartFailsAndTheWorkerStaysUp) {
  Cluster c;
  c.StartScheduler();
  Process* w = c.StartWorker("w1", 2, {}, {{"DE_WORKER_TEST_THREAD_FAILURES", "1"}});
  c.Submit("dag: t\ntasks: [ { id: a, type: shell, with: { command: \"echo hi\" } } ]\n");
  v1::Run first = c.WaitRunDone(c.Trigger("t"));
  EXPECT_EQ(first.state(), "failed");
  ASSERT_EQ(first.tasks_size(), 1);
  EXPECT_TRUE(absl::StrContains(first.tasks(0).error(), "cannot start a thread"))
      << first.tasks(0).error();
  EXPECT_TRUE(absl::StrContains(c.TaskLog(first.run_id(), "a"), "cannot start a thread"));
  EXPECT_TRUE(w->Running());
  EXPECT_TRUE(c.WorkerConnected("w1"));
  v1::Run second = c.WaitRunDone(c.Trigger("t"));
  EXPECT_EQ(second.state(), "success") << c.Logs();
}

TEST(WorkerGuaranteesE2E, ProcessThatEscapedWithSetsidIsKilledAtTheAttemptsEnd) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1");
  c.Submit(WithData(c, R"(
dag: escape
tasks:
  - id: a
    type: shell
    with:
      command: |
        setsid sh -c 'echo $$ > DATA/pid.tmp; mv DATA/pid.tmp DATA/pid; exec sleep 1000' \
          </dev/null >/dev/null 2>&1 &
        while [ ! -f DATA/pid ]; do sleep 0.01; done
        echo started
)"));
  v1::Run run = c.WaitRunDone(c.Trigger("escape"));
  EXPECT_EQ(run.state(), "success") << c.Logs();
  std::string pid_text(absl::StripAsciiWhitespace(ReadFile(c.data("pid"))));
  int pid = 0;
  ASSERT_TRUE(absl::SimpleAtoi(pid_text, &pid)) << pid_text;
  EXPECT_TRUE(WaitUntil([&] { return !std::filesystem::exists(absl::StrCat("/proc/", pid)); },
                        absl::Seconds(10)))
      << "pid " << pid << " outlived its attempt";
  if (std::filesystem::exists(absl::StrCat("/proc/", pid))) kill(pid, SIGKILL);
}

TEST(WorkerGuaranteesE2E, LogOverTheCapKeepsHeadAndTailWithAMarker) {
  // The scheduler's cap (8 KB) is below the worker's default: workers are told and use it.
  Cluster c({"--lease", "1500ms", "--heartbeat", "200ms", "--max-log-bytes", "8KB"});
  c.StartScheduler();
  c.StartWorker("w1");
  c.Submit(R"(
dag: loud
tasks:
  - { id: a, type: shell, with: { command: "seq 1 20000 | sed 's/^/line /'" } }
)");
  v1::Run run = c.WaitRunDone(c.Trigger("loud"));
  EXPECT_EQ(run.state(), "success") << c.Logs();
  const std::string log = c.TaskLog(run.run_id(), "a");
  EXPECT_TRUE(absl::StartsWith(log, "line 1\nline 2\n")) << log.substr(0, 100);
  EXPECT_TRUE(absl::EndsWith(log, "line 19999\nline 20000\n")) << log.substr(log.size() - 100);
  EXPECT_TRUE(std::regex_search(log, std::regex("\\[de: [0-9]+ bytes of log dropped\\]\n")))
      << log;
  EXPECT_LE(log.size(), 8192u + 100u);
  EXPECT_FALSE(absl::StrContains(log, "capped at")) << "the worker capped it";
}

}  // namespace
}  // namespace de::testing
