// dectl's follow commands ride out a scheduler restart: `trigger --wait` exits 0 when the run
// succeeds and `logs -f` prints every line exactly once, announcing the outage once on stderr,
// whether the scheduler stopped cleanly (SIGTERM) or was killed (SIGKILL), and following it to a
// new address when dectl found it through DE_HOME/scheduler.addr.
#include <signal.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

constexpr char kReconnect[] = "scheduler unavailable, reconnecting...";

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// dectl in the background, stdout and stderr in separate files.
struct BackgroundDectl {
  BackgroundDectl(const Cluster& c, const std::string& name, std::vector<std::string> args,
                  const std::map<std::string, std::string>& env = {})
      : out(c.home() + "/" + name + ".out"), err(c.home() + "/" + name + ".err") {
    std::string cmd = "exec";
    for (const auto& a : args) absl::StrAppend(&cmd, " '", a, "'");
    absl::StrAppend(&cmd, " 2>'", err, "'");
    process = std::make_unique<Process>(std::vector<std::string>{"/bin/sh", "-c", cmd}, out, env);
  }
  std::string Out() const { return ReadFile(out); }
  std::string Err() const { return ReadFile(err); }
  std::string out, err;
  std::unique_ptr<Process> process;
};

class TriggerWaitAcrossRestart : public ::testing::TestWithParam<int> {};

TEST_P(TriggerWaitAcrossRestart, ExitsZeroWhenTheRunSucceeds) {
  Cluster c;
  const std::string listen = absl::StrCat("127.0.0.1:", FreePort());
  c.StartScheduler(listen);
  c.StartWorker("w1");
  c.SubmitGated("gated");
  BackgroundDectl dectl(c, "trigger", {DECTL_BIN, "--server", listen, "trigger", "gated", "--wait"});
  ASSERT_TRUE(WaitUntil([&] { return FileExists(c.data("ran")); })) << c.Logs();
  c.KillScheduler(GetParam());
  // While it is down, dectl keeps trying (and says so once).
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(dectl.Err(), kReconnect); }))
      << dectl.Err();
  EXPECT_TRUE(dectl.process->Running());
  c.StartScheduler(listen);
  WriteFile(c.data("go"), "");
  EXPECT_EQ(dectl.process->Wait(), 0) << dectl.Out() << dectl.Err() << c.Logs();
  EXPECT_TRUE(absl::StrContains(dectl.Out(), " success")) << dectl.Out();
  EXPECT_EQ(Count(dectl.Err(), kReconnect), 1) << dectl.Err();
  EXPECT_EQ(ReadFile(c.data("ran")), "ran\n") << "the task ran once";
}

INSTANTIATE_TEST_SUITE_P(Signals, TriggerWaitAcrossRestart, ::testing::Values(SIGTERM, SIGKILL),
                         [](const auto& info) { return info.param == SIGTERM ? "Sigterm" : "Sigkill"; });

TEST(ClientRestartE2E, TriggerWaitFollowsTheNewAddressFromDeHome) {
  Cluster c;
  c.StartScheduler();   // port 0
  c.Submit("dag: quick\ntasks: [ { id: a, type: noop } ]\n");
  // No --server and no DE_SERVER: dectl reads DE_HOME/scheduler.addr. No worker yet, so the run
  // waits while the scheduler is killed and comes back on another port.
  BackgroundDectl dectl(c, "trigger", {DECTL_BIN, "trigger", "quick", "--wait"},
                        {{"DE_HOME", c.home()}, {"DE_SERVER", ""}});
  ASSERT_TRUE(WaitUntil([&] { return !dectl.Out().empty(); })) << dectl.Err();
  const std::string old_address = c.address();
  c.KillScheduler(SIGKILL);
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(dectl.Err(), kReconnect); }));
  c.StartScheduler();
  ASSERT_NE(c.address(), old_address) << "the test needs the address to change";
  c.StartWorker("w1");
  EXPECT_EQ(dectl.process->Wait(), 0) << dectl.Out() << dectl.Err() << c.Logs();
  EXPECT_EQ(Count(dectl.Err(), kReconnect), 1) << dectl.Err();
}

TEST(ClientRestartE2E, TriggerWaitTimeoutGivesUp) {
  Cluster c;
  c.StartScheduler();
  c.Submit("dag: quick\ntasks: [ { id: a, type: noop } ]\n");   // no worker: never finishes
  std::string out;
  EXPECT_EQ(c.Dectl({"trigger", "quick", "--wait", "--wait-timeout", "1s"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "gave up waiting after 1s (--wait-timeout)")) << out;
}

TEST(ClientRestartE2E, LogsFollowPrintsEveryLineExactlyOnceAcrossAKill) {
  Cluster c;
  const std::string listen = absl::StrCat("127.0.0.1:", FreePort());
  c.StartScheduler(listen);
  c.StartWorker("w1");
  // Prints a numbered line every 5 ms until told to stop: lines are written while the scheduler
  // is killed and while it is away.
  c.Submit(absl::StrReplaceAll(R"(
dag: chatty
tasks:
  - id: talk
    type: shell
    with:
      command: |
        i=0
        while [ ! -f DATA/stop ]; do i=$((i+1)); echo "line $i"; sleep 0.005; done
        echo end
)", {{"DATA", c.data("")}}));
  const std::string run_id = c.Trigger("chatty");
  BackgroundDectl dectl(c, "logs", {DECTL_BIN, "--server", listen, "logs", run_id, "talk", "-f"});
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(dectl.Out(), "line 20\n"); }))
      << dectl.Out() << dectl.Err() << c.Logs();
  c.KillScheduler(SIGKILL);
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(dectl.Err(), kReconnect); }));
  c.StartScheduler(listen);
  // Back on the new scheduler, and more lines logged there, before the task ends.
  ASSERT_TRUE(WaitUntil([&] { return c.WorkerConnected("w1"); })) << c.Logs();
  const size_t seen = dectl.Out().size();
  ASSERT_TRUE(WaitUntil([&] { return dectl.Out().size() > seen + 200; })) << c.Logs();
  WriteFile(c.data("stop"), "");
  EXPECT_EQ(dectl.process->Wait(), 0) << dectl.Err() << c.Logs();
  std::vector<std::string> lines = absl::StrSplit(dectl.Out(), '\n');
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.back(), "");
  lines.pop_back();
  EXPECT_EQ(lines.back(), "end");
  lines.pop_back();
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_EQ(lines[i], absl::StrCat("line ", i + 1)) << "at line " << i + 1 << " of\n"
                                                      << dectl.Out();
  }
  EXPECT_EQ(Count(dectl.Err(), kReconnect), 1) << dectl.Err();
  EXPECT_EQ(c.TaskLog(run_id, "talk"), dectl.Out()) << "the stored log is the one printed";
}

}  // namespace
}  // namespace de::testing
