// A disk whose fsync fails (DE_TEST_WAL_SYNC_FAIL_FILE, the WalSync's test hook): the scheduler
// tells nobody of the commit it could not make durable (the trigger gets an error, not a run id),
// exits with a message naming the file, and the restart serves everything synced before.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

TEST(WalSyncE2E, AFailedFsyncIsReportedToNobodyAndStopsTheScheduler) {
  TempDir home;
  const std::string fail = home / "fsync-fails";
  const std::string log = home / "scheduler.log";
  Process s({DE_SCHEDULER_BIN, "--home", home.path(), "--listen", "127.0.0.1:0", "--http", ""},
            log, {{"DE_TEST_WAL_SYNC_FAIL_FILE", fail}});
  std::string addr;
  auto serving = [&](Process& p) {
    if (!WaitUntil([&] { return FileExists(home / "scheduler.addr") || !p.Running(); })) {
      return false;
    }
    addr = ReadFile(home / "scheduler.addr");
    while (!addr.empty() && addr.back() == '\n') addr.pop_back();
    return !addr.empty();
  };
  ASSERT_TRUE(serving(s)) << s.Log();
  auto dectl = [&](std::vector<std::string> args, const std::string& out) {
    args.insert(args.begin(), {DECTL_BIN, "--server", addr});
    Process p(args, home / out);
    return p.Wait();
  };
  WriteFile(home / "d.yaml", "dag: d\ntasks: [ { id: a, type: noop } ]\n");
  ASSERT_EQ(dectl({"dag", "submit", home / "d.yaml"}, "submit.out"), 0)
      << ReadFile(home / "submit.out");

  WriteFile(fail, "");
  EXPECT_NE(dectl({"trigger", "d"}, "trigger.out"), 0) << ReadFile(home / "trigger.out");
  EXPECT_FALSE(absl::StrContains(ReadFile(home / "trigger.out"), "d__manual__"))
      << "a run id was reported before its commit was on disk:\n"
      << ReadFile(home / "trigger.out");
  EXPECT_EQ(s.Wait(), 75) << s.Log();
  EXPECT_TRUE(absl::StrContains(s.Log(), "cannot sync " + (home / "de.db-wal") +
                                             ": Input/output error; exiting"))
      << s.Log();

  std::filesystem::remove(fail);
  std::filesystem::remove(home / "scheduler.addr");   // the exit left it (no clean shutdown)
  Process again({DE_SCHEDULER_BIN, "--home", home.path(), "--listen", "127.0.0.1:0", "--http", ""},
                home / "again.log");
  ASSERT_TRUE(serving(again)) << again.Log();
  ASSERT_EQ(dectl({"dag", "list"}, "list.out"), 0) << ReadFile(home / "list.out");
  EXPECT_TRUE(absl::StrContains(ReadFile(home / "list.out"), "d")) << ReadFile(home / "list.out");
  EXPECT_EQ(dectl({"trigger", "d"}, "again.out"), 0) << ReadFile(home / "again.out");
}

}  // namespace
}  // namespace de::testing
