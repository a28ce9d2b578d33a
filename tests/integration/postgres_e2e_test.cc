// End to end on PostgreSQL: a real de-scheduler with `--store postgresql://...` (a throwaway
// server, tests/support/pg_server.h) and a worker run DAGs to success; the state is in
// PostgreSQL (not DE_HOME/de.db) and survives a kill -9 of the scheduler mid-run.
#include <signal.h>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/integration/harness.h"
#include "tests/support/pg_server.h"

namespace de::testing {
namespace {

int CountAttempts(const v1::Run& run, const std::string& task, const std::string& state) {
  int n = 0;
  for (const auto& a : run.attempts()) n += a.task_id() == task && a.state() == state;
  return n;
}

TEST(PostgresE2E, SchedulerOnPostgresRunsADagAndKeepsItsStateAcrossAKill) {
  std::string skip;
  PgServer* pg = PgServer::Get(&skip);
  if (pg == nullptr) GTEST_SKIP() << skip;
  const std::string url = pg->CreateDatabase();
  ASSERT_FALSE(url.empty()) << pg->Log();

  Cluster c({"--lease", "1500ms", "--heartbeat", "200ms", "--store", url});
  const std::string listen = absl::StrCat("127.0.0.1:", FreePort());
  c.StartScheduler(listen);
  c.StartWorker("w1", 2);
  c.Submit(absl::StrReplaceAll(R"(
dag: onpg
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
)",
                               {{"DATA", c.data("")}}));
  // A first run to success, the whole way on PostgreSQL.
  WriteFile(c.data("go"), "");
  const std::string done_id = c.Trigger("onpg");
  v1::Run done = c.WaitRunDone(done_id);
  ASSERT_EQ(done.state(), "success") << done.DebugString() << c.Logs();
  EXPECT_EQ(PgQuery(url, "SELECT state FROM runs WHERE run_id = '" + done_id + "'"), "success");
  EXPECT_EQ(PgQuery(url, "SELECT count(*) FROM task_instances WHERE run_id = '" + done_id +
                             "' AND state = 'success'"),
            "3");
  EXPECT_FALSE(FileExists(c.home() + "/de.db")) << "the state is in PostgreSQL, not DE_HOME";

  // A second run, its scheduler killed while a task runs; the task ends while it is down.
  std::remove(c.data("go").c_str());
  WriteFile(c.data("ran"), "");
  const std::string run_id = c.Trigger("onpg");
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(ReadFile(c.data("ran")), "middle-start");
  })) << c.Logs();
  c.KillScheduler(SIGKILL);
  WriteFile(c.data("go"), "");
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(ReadFile(c.data("ran")), "middle-end"); }));
  c.StartScheduler(listen);
  v1::Run run = c.WaitRunDone(run_id);
  ASSERT_EQ(run.state(), "success") << run.DebugString() << c.Logs();
  EXPECT_EQ(ReadFile(c.data("ran")), "first\nmiddle-start\nmiddle-end\nlast\n");
  for (const auto* id : {"first", "middle", "last"}) {
    EXPECT_EQ(CountAttempts(run, id, "success"), 1) << id << "\n" << run.DebugString();
  }
  EXPECT_EQ(run.attempts_size(), 3) << run.DebugString();
  // The first run is still there after the restart, as dectl shows it.
  EXPECT_EQ(c.GetRun(done_id).state(), "success");
  std::string out;
  ASSERT_EQ(c.Dectl({"runs", "list", "onpg"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, done_id)) << out;
  EXPECT_TRUE(absl::StrContains(out, run_id)) << out;
}

TEST(PostgresE2E, ASecondSchedulerOnTheSameDatabaseIsAStandbyAndLeadsOnceTheFirstStops) {
  std::string skip;
  PgServer* pg = PgServer::Get(&skip);
  if (pg == nullptr) GTEST_SKIP() << skip;
  const std::string url = pg->CreateDatabase();
  ASSERT_FALSE(url.empty()) << pg->Log();
  // A long leader lease: the takeover below is quick only because a stopping leader gives the
  // lease up.
  Cluster c({"--store", url, "--leader-lease", "60s"});
  c.StartScheduler();
  TempDir other_home;   // another DE_HOME: its flock does not see the first scheduler
  Process second({DE_SCHEDULER_BIN, "--home", other_home.path(), "--listen", "127.0.0.1:0",
                  "--http", "", "--store", url, "--leader-lease", "60s"},
                 other_home / "out.log");
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(ReadFile(other_home / "out.log"), "leads (epoch 1)");
  })) << ReadFile(other_home / "out.log");
  EXPECT_TRUE(second.Running());
  EXPECT_FALSE(FileExists(other_home / "scheduler.addr")) << "a standby publishes no address";
  EXPECT_EQ(c.KillScheduler(SIGTERM), 0);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(other_home / "scheduler.addr"); },
                        absl::Seconds(20)))
      << ReadFile(other_home / "out.log");
  EXPECT_EQ(PgQuery(url, "SELECT epoch FROM de_leader"), "2");
}

TEST(PostgresE2E, AnUnreachableStoreFailsStartupSayingWhereWithoutThePassword) {
  TempDir home;
  Process p({DE_SCHEDULER_BIN, "--home", home.path(), "--listen", "127.0.0.1:0", "--http", "",
             "--store", "postgresql://de:s3cret@127.0.0.1:1/de?connect_timeout=2"},
            home / "out.log");
  EXPECT_EQ(p.Wait(), 1);
  const std::string log = ReadFile(home / "out.log");
  EXPECT_TRUE(absl::StrContains(log, "cannot connect to postgresql://de:***@127.0.0.1:1/de"))
      << log;
  EXPECT_FALSE(absl::StrContains(log, "s3cret")) << log;
}

TEST(PostgresE2E, StoreFlagMustBeAPostgresUrl) {
  TempDir home;
  Process p({DE_SCHEDULER_BIN, "--home", home.path(), "--store", "/tmp/x.db"}, home / "out.log");
  EXPECT_EQ(p.Wait(), 1);
  EXPECT_TRUE(absl::StrContains(ReadFile(home / "out.log"), "--store: '/tmp/x.db' is not a"))
      << ReadFile(home / "out.log");
}

}  // namespace
}  // namespace de::testing
