// A worker cut off from a live scheduler (its connection open, nothing getting through) stops its
// attempts itself before their lease ends: the scheduler counts them lost and runs them on another
// worker, and the two copies never run at once. When the network comes back the worker returns.
#include <signal.h>

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/harness.h"
#include "tests/integration/tcp_proxy.h"

namespace de::testing {
namespace {

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}
int Lines(const std::string& text) { return Count(text, "\n"); }

TEST(WorkerPartitionE2E, ACutOffWorkerStopsItsAttemptBeforeTheSchedulerRunsItElsewhere) {
  Cluster c;
  c.StartScheduler();
  TcpProxy link(c.address());
  Process* w1 = c.StartWorker("w1", 1, {"--scheduler", link.address()});
  // Each copy checks, as it starts, that no earlier copy is still alive.
  c.Submit(absl::StrReplaceAll(R"(
dag: cutoff
tasks:
  - id: work
    type: shell
    with:
      command: |
        for p in $(cat DATA/pids 2>/dev/null); do
          if kill -0 "$p" 2>/dev/null; then echo "copy $p still runs" >> DATA/overlap; fi
        done
        echo $$ >> DATA/pids
        while [ ! -f DATA/go ]; do sleep 0.02; done
)", {{"DATA", c.data("")}}));
  const std::string run_id = c.Trigger("cutoff");
  ASSERT_TRUE(WaitUntil([&] { return Lines(ReadFile(c.data("pids"))) == 1; })) << c.Logs();
  c.StartWorker("w2", 1);
  link.Freeze();
  // The scheduler's lease for w1's attempt lapses; the retry runs on w2.
  ASSERT_TRUE(WaitUntil([&] { return Lines(ReadFile(c.data("pids"))) == 2; })) << c.Logs();
  WriteFile(c.data("go"), "");
  v1::Run run = c.WaitRunDone(run_id);
  EXPECT_EQ(run.state(), "success") << run.DebugString() << c.Logs();
  EXPECT_FALSE(FileExists(c.data("overlap"))) << ReadFile(c.data("overlap")) << c.Logs();
  EXPECT_TRUE(absl::StrContains(w1->Log(), "no word from the scheduler")) << w1->Log();
  ASSERT_EQ(run.attempts_size(), 2) << run.DebugString();
  EXPECT_EQ(run.attempts(0).state(), "lost");
  EXPECT_EQ(run.attempts(1).state(), "success");
  link.Thaw();
  EXPECT_TRUE(WaitUntil([&] { return c.WorkerConnected("w1"); })) << w1->Log();
  EXPECT_TRUE(w1->Running());
}

TEST(WorkerPartitionE2E, AttemptsKeepRunningWhileTheSchedulerRestartsForLongerThanALease) {
  // Nobody listens while it is down (connections refused): nobody can give the attempt away,
  // and the restarted scheduler gives it a whole lease from its recovery.
  Cluster c;
  const std::string listen = absl::StrCat("127.0.0.1:", FreePort());
  c.StartScheduler(listen);
  Process* w = c.StartWorker("w1");
  const std::string run_id = c.TriggerHeld("long");
  ASSERT_TRUE(FileExists(c.data("ran"))) << c.Logs();
  c.KillScheduler(SIGKILL);
  // Down for two leases: the worker sees refusals all along.
  ASSERT_TRUE(WaitUntil([&] {
    return Count(w->Log(), "unavailable; reconnecting") >= 12;
  })) << w->Log();
  c.StartScheduler(listen);
  WriteFile(c.data("go"), "");
  v1::Run run = c.WaitRunDone(run_id);
  EXPECT_EQ(run.state(), "success") << c.Logs();
  EXPECT_EQ(ReadFile(c.data("ran")), "ran\n") << "the task ran again:\n" << c.Logs();
  EXPECT_FALSE(absl::StrContains(w->Log(), "no word from the scheduler")) << w->Log();
}

}  // namespace
}  // namespace de::testing
