// dectl db clean against a real scheduler and worker: --dry-run counts and deletes nothing, a
// clean deletes exactly the chosen DAG's finished runs with their logs and says how many, a bad
// duration is a usage error naming the flag.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

std::string Yaml(const std::string& dag) {
  return absl::StrCat("dag: ", dag, R"(
tasks:
  - id: hello
    type: shell
    with: { command: "echo hello from )", dag, R"(" }
  - id: bye
    type: shell
    needs: [hello]
    with: { command: "echo bye" }
)");
}

int RunCount(Cluster& c, const std::string& dag) {
  v1::ListRunsRequest req;
  req.set_dag_id(dag);
  v1::ListRunsResponse resp;
  grpc::ClientContext ctx;
  EXPECT_TRUE(c.api().ListRuns(&ctx, req, &resp).ok());
  return resp.runs_size();
}

TEST(DbCleanE2E, DryRunDeletesNothingCleanDeletesTheDagsFinishedRunsAndLogs) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 2);
  c.Submit(Yaml("old"));
  c.Submit(Yaml("keep"));
  const std::string old_run = c.Trigger("old");
  const std::string keep_run = c.Trigger("keep");
  ASSERT_EQ(c.WaitRunDone(old_run).state(), "success") << c.Logs();
  ASSERT_EQ(c.WaitRunDone(keep_run).state(), "success") << c.Logs();
  const std::string old_logs = c.home() + "/logs/" + old_run;
  const std::string keep_logs = c.home() + "/logs/" + keep_run;
  ASSERT_TRUE(FileExists(old_logs));
  ASSERT_TRUE(FileExists(keep_logs));

  std::string out;
  EXPECT_EQ(c.Dectl({"db", "clean", "--older-than", "9x"}, &out), 2) << out;
  EXPECT_TRUE(absl::StrContains(out, "--older-than: '9x' is not a duration like 90d, 12h")) << out;
  EXPECT_NE(c.Dectl({"db", "clean"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "--older-than is required")) << out;

  // Both runs ended just now: 90 days keeps them.
  EXPECT_EQ(c.Dectl({"db", "clean", "--older-than", "90d"}, &out), 0) << out;
  EXPECT_TRUE(absl::StartsWith(out, "deleted 0 finished runs that ended before ")) << out;
  EXPECT_EQ(RunCount(c, "old"), 1);

  // A dry run counts the DAG's run with its 2 tasks, 2 attempts and 2 log files; deletes nothing.
  EXPECT_EQ(c.Dectl({"db", "clean", "--older-than", "1ms", "--dag", "old", "--dry-run"}, &out), 0)
      << out;
  EXPECT_TRUE(absl::StartsWith(out, "dry run: would delete 1 finished runs of old that ended "))
      << out;
  EXPECT_TRUE(absl::StrContains(
      out, "with 2 task instances, 2 attempts, 0 alert deliveries, 2 log files ("))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "nothing was deleted")) << out;
  EXPECT_EQ(RunCount(c, "old"), 1);
  EXPECT_TRUE(FileExists(old_logs));

  EXPECT_EQ(c.Dectl({"db", "clean", "--older-than", "1ms", "--dag", "old"}, &out), 0) << out;
  EXPECT_TRUE(absl::StartsWith(out, "deleted 1 finished runs of old that ended before ")) << out;
  EXPECT_TRUE(absl::StrContains(
      out, "with 2 task instances, 2 attempts, 0 alert deliveries, 2 log files ("))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "in 1 batch")) << out;
  EXPECT_EQ(RunCount(c, "old"), 0);
  EXPECT_FALSE(FileExists(old_logs));
  EXPECT_EQ(c.Dectl({"runs", "show", old_run}, &out), 1) << out;
  // The other DAG's run, its logs and the DAG itself stay.
  EXPECT_EQ(RunCount(c, "keep"), 1);
  EXPECT_TRUE(FileExists(keep_logs));
  EXPECT_EQ(c.Dectl({"dag", "show", "old"}, &out), 0) << out;
  EXPECT_EQ(c.Dectl({"logs", keep_run, "hello"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "hello from keep")) << out;

  // --json: the counts as fields.
  EXPECT_EQ(c.Dectl({"-o", "json", "db", "clean", "--older-than", "1ms", "--dry-run"}, &out), 0)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "\"dry_run\": true")) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"runs\": \"1\"")) << out;
}

}  // namespace
}  // namespace de::testing
