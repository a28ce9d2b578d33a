// Stopping the daemons the way systemd does: SIGTERM. The scheduler exits cleanly; a worker drains
// (takes no new work, lets its running task finish and report) and then exits.
#include <signal.h>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

TEST(ShutdownE2E, SchedulerExitsCleanlyOnSigtermAndResumesAfterRestart) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1");
  c.Submit("dag: quick\ntasks: [ { id: a, type: noop } ]\n");
  std::string run_id = c.Trigger("quick");
  EXPECT_EQ(c.WaitRunDone(run_id).state(), "success");
  EXPECT_EQ(c.KillScheduler(SIGTERM), 0) << c.Logs();
  EXPECT_FALSE(FileExists(c.home() + "/scheduler.addr"));
  c.StartScheduler();
  EXPECT_EQ(c.GetRun(run_id).state(), "success");   // history survives the restart
}

TEST(ShutdownE2E, WorkerDrainsOnSigtermLettingItsTaskFinish) {
  Cluster c;
  c.StartScheduler();
  Process* w = c.StartWorker("w1", 1);
  c.Submit(absl::StrReplaceAll(R"(
dag: long
tasks:
  - id: work
    type: shell
    with:
      command: |
        touch DATA/started
        while [ ! -f DATA/go ]; do sleep 0.02; done
        echo finished
)", {{"DATA", c.data("")}}));
  std::string run_id = c.Trigger("long");
  ASSERT_TRUE(WaitUntil([&] { return FileExists(c.data("started")); }));
  w->Kill(SIGTERM);
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(w->Log(), "draining"); })) << w->Log();
  EXPECT_TRUE(w->Running());   // its task cannot have finished: it waits for the go file
  WriteFile(c.data("go"), "");
  EXPECT_EQ(w->Wait(), 0) << w->Log();
  v1::Run run = c.WaitRunDone(run_id);
  EXPECT_EQ(run.state(), "success") << run.DebugString();
  ASSERT_EQ(run.attempts_size(), 1);
  EXPECT_EQ(run.attempts(0).state(), "success");
}

}  // namespace
}  // namespace de::testing
