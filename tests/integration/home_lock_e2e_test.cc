// One scheduler per DE_HOME: a second de-scheduler on a home that a live one holds refuses to
// start, names the holder, and leaves the first one's attempts and scheduler.addr alone.
#include <signal.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

TEST(HomeLockE2E, SecondSchedulerOnTheSameHomeRefusesAndTouchesNothing) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 1);
  c.Submit(absl::StrReplaceAll(R"(
dag: held
tasks:
  - id: work
    type: shell
    with:
      command: |
        touch DATA/started
        while [ ! -f DATA/go ]; do sleep 0.02; done
)", {{"DATA", c.data("")}}));
  const std::string run_id = c.Trigger("held");
  ASSERT_TRUE(WaitUntil([&] { return FileExists(c.data("started")); })) << c.Logs();
  const std::string addr_before = ReadFile(c.home() + "/scheduler.addr");
  const std::string holder = ReadFile(c.home() + "/scheduler.lock");
  ASSERT_TRUE(absl::StartsWith(holder, "pid ")) << holder;
  std::string holder_line(absl::StripSuffix(holder, "\n"));

  Process second({DE_SCHEDULER_BIN, "--home", c.home(), "--listen", "127.0.0.1:0", "--http", "",
                  "--lease", "200ms"},
                 c.home() + "/second.log");
  ASSERT_TRUE(WaitUntil([&] { return !second.Running(); })) << second.Log();
  EXPECT_EQ(second.Wait(), 1);
  EXPECT_TRUE(absl::StrContains(second.Log(), "another de-scheduler (" + holder_line +
                                                  ") is already running on DE_HOME"))
      << second.Log();

  // The first scheduler still owns everything: its address file, its running attempt.
  EXPECT_EQ(ReadFile(c.home() + "/scheduler.addr"), addr_before);
  v1::Run run = c.GetRun(run_id);
  ASSERT_EQ(run.attempts_size(), 1) << run.DebugString();
  EXPECT_EQ(run.attempts(0).state(), "running");
  WriteFile(c.data("go"), "");
  run = c.WaitRunDone(run_id);
  EXPECT_EQ(run.state(), "success") << run.DebugString();
  EXPECT_EQ(run.attempts_size(), 1) << run.DebugString();
}

TEST(HomeLockE2E, LockIsReleasedWhenTheHolderIsKilled) {
  Cluster c;
  c.StartScheduler();
  EXPECT_EQ(c.KillScheduler(SIGKILL), 128 + SIGKILL);
  c.StartScheduler();   // the kernel dropped the dead process's lock
  c.Submit("dag: quick\ntasks: [ { id: a, type: noop } ]\n");
}

TEST(SchedulerStartupE2E, FailingToWriteSchedulerAddrIsAStartupError) {
  TempDir home;
  // A directory where the temporary address file must go: the write cannot succeed (even as root).
  std::filesystem::create_directories(home / "scheduler.addr.tmp");
  Process s({DE_SCHEDULER_BIN, "--home", home.path(), "--listen", "127.0.0.1:0", "--http", ""},
            home / "scheduler.log");
  ASSERT_TRUE(WaitUntil([&] { return !s.Running(); })) << s.Log();
  EXPECT_EQ(s.Wait(), 1);
  EXPECT_TRUE(absl::StrContains(s.Log(), "cannot write " + home.path() + "/scheduler.addr"))
      << s.Log();
}

// A --logs folder that cannot be made (an unmounted share, a file in its place) stops the start
// with a message naming it, instead of a scheduler that loses every task's log.
TEST(HomeLockE2E, ALogsFolderThatCannotBeWrittenFailsTheStart) {
  TempDir home;
  WriteFile(home / "not-a-dir", "");
  Process p({DE_SCHEDULER_BIN, "--home", home.path(), "--listen", "127.0.0.1:0", "--http", "",
             "--logs", home / "not-a-dir/logs"},
            home / "out.log");
  EXPECT_EQ(p.Wait(), 1);
  const std::string log = ReadFile(home / "out.log");
  EXPECT_TRUE(absl::StrContains(log, "cannot write task logs to " + (home / "not-a-dir/logs") +
                                         " (--logs): "))
      << log;
  EXPECT_FALSE(FileExists(home / "scheduler.addr"));
}

}  // namespace
}  // namespace de::testing
