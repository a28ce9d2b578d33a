// dectl's errors and answers that point at the right place, against a real scheduler and
// worker: an unknown task in `logs`, what `clear` cleared, the `dectl logs` command a failed
// `trigger --wait` ends with, `dag delete`'s confirmation (and the logs it removes), and no
// colours when stdout is not a terminal.
#include <gtest/gtest.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

std::string RunIdIn(const std::string& out, const std::string& dag) {
  for (auto word : absl::StrSplit(out, absl::ByAnyChar(" \n"))) {
    if (absl::StartsWith(word, dag + "__manual__")) return std::string(word);
  }
  return "";
}

std::string LastLine(const std::string& out) {
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  return lines.empty() ? "" : lines.back();
}

TEST(DectlErrorsE2E, LogsClearFailedWaitAndDelete) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 2);
  const std::string file = c.data("oops.yaml");
  WriteFile(file, R"(dag: oops
tasks:
  - id: extract
    type: shell
    with: { command: "echo extracting" }
  - id: load
    type: shell
    needs: [extract]
    with: { command: "echo loading; exit 3" }
)");
  std::string out;
  ASSERT_EQ(c.Dectl({"dag", "submit", file}, &out), 0) << out;

  // A failed run ends with the command that shows the failed task's log; it works as printed.
  EXPECT_EQ(c.Dectl({"trigger", "oops", "--wait"}, &out), 1) << out;
  const std::string run = RunIdIn(out, "oops");
  ASSERT_FALSE(run.empty()) << out;
  EXPECT_EQ(LastLine(out), "see the log: dectl logs " + run + " load") << out;
  EXPECT_FALSE(absl::StrContains(out, "\x1b[")) << "colours without a terminal: " << out;
  EXPECT_EQ(c.Dectl({"logs", run, "load"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "loading")) << out;

  // An unknown task: said so, with the nearest task and the run's tasks.
  EXPECT_EQ(c.Dectl({"logs", run, "lod"}, &out), 1) << out;
  EXPECT_TRUE(absl::StrContains(
      out, "run " + run + " has no task 'lod' (did you mean 'load'?); its tasks: extract, load"))
      << out;
  EXPECT_EQ(c.Dectl({"logs", "-f", run, "nosuchtask"}, &out), 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "has no task 'nosuchtask'")) << out;

  // clear says which tasks it cleared and how many.
  EXPECT_EQ(c.Dectl({"clear", run, "--failed-only"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "cleared 1 task of " + run + ": load; run is")) << out;
  c.WaitRunDone(run);
  EXPECT_EQ(c.Dectl({"clear", run, "--task", "extract", "--downstream"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "cleared 2 tasks of " + run + ": extract, load;")) << out;
  c.WaitRunDone(run);
  EXPECT_EQ(c.Dectl({"runs", "list"}, &out), 0) << out;
  EXPECT_FALSE(absl::StrContains(out, "\x1b[")) << out;

  // dag delete: without a terminal and without --yes nothing is deleted.
  const std::string logs = c.home() + "/logs/" + run;
  ASSERT_TRUE(FileExists(logs));
  EXPECT_EQ(c.Dectl({"dag", "delete", "oops"}, &out), 2) << out;
  EXPECT_TRUE(absl::StrContains(out, "pass --yes to confirm")) << out;
  EXPECT_EQ(c.Dectl({"dag", "show", "oops"}, &out), 0) << out;
  EXPECT_TRUE(FileExists(logs));
  // With --yes the DAG goes, and its runs' logs with it.
  EXPECT_EQ(c.Dectl({"dag", "delete", "--yes", "oops"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "deleted oops (1 runs, 1 log folders)")) << out;
  EXPECT_FALSE(FileExists(logs));
  EXPECT_EQ(c.Dectl({"dag", "show", "oops"}, &out), 1) << out;
}

}  // namespace
}  // namespace de::testing
