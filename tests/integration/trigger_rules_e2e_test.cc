// End to end: a real de-scheduler and de-worker, a shell task that exits 1 and a cleanup task
// with `trigger_rule: all_done` after it. The cleanup runs and writes its file, the run still
// ends failed, and dectl and the JSON API show each task's rule.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
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

constexpr char kDag[] = R"(
dag: cleanup_after_failure
tasks:
  - id: extract
    type: shell
    with: { command: "echo extracting; exit 1" }
  - id: load
    type: shell
    needs: [extract]
    with: { command: "echo loaded > DATA/loaded" }
  - id: cleanup
    type: shell
    needs: [extract, load]
    trigger_rule: all_done
    with: { command: "echo \"cleaned up after $DE_RUN_ID\" > DATA/cleaned" }
)";

TEST(TriggerRulesE2E, AllDoneCleanupRunsAfterAFailedShellTaskAndTheRunFails) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1");
  c.Submit(absl::StrReplaceAll(kDag, {{"DATA", c.data("")}}));
  const std::string run_id = c.Trigger("cleanup_after_failure");
  v1::Run run = c.WaitRunDone(run_id);
  EXPECT_EQ(run.state(), "failed") << run.DebugString() << c.Logs();
  EXPECT_EQ(Task(run, "extract").state(), "failed");
  EXPECT_EQ(Task(run, "load").state(), "upstream_failed");
  EXPECT_EQ(Task(run, "cleanup").state(), "success");
  ASSERT_TRUE(FileExists(c.data("cleaned"))) << c.Logs();
  EXPECT_EQ(ReadFile(c.data("cleaned")), "cleaned up after " + run_id + "\n");
  EXPECT_FALSE(FileExists(c.data("loaded")));
  EXPECT_LE(Task(run, "extract").ended_at_ms(), Task(run, "cleanup").started_at_ms());

  // dectl shows the failed run, and each task's rule.
  std::string out;
  EXPECT_NE(c.Dectl({"trigger", "cleanup_after_failure", "--wait"}, &out), 0) << out;
  ASSERT_EQ(c.Dectl({"dag", "show", "cleanup_after_failure"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "TRIGGER RULE")) << out;
  bool cleanup_row = false;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (absl::StartsWith(line, "cleanup ")) cleanup_row = absl::StrContains(line, "all_done");
    if (absl::StartsWith(line, "load ")) EXPECT_TRUE(absl::StrContains(line, "all_success"));
  }
  EXPECT_TRUE(cleanup_row) << out;
  ASSERT_EQ(c.Dectl({"--output", "json", "dag", "show", "cleanup_after_failure"}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, R"("trigger_rule": "all_done")")) << out;

  // The JSON API: GET /api/v1/dags/DAG carries it too.
  const std::string addr = c.http_address();
  httplib::Client http(addr.substr(0, addr.rfind(':')),
                       std::stoi(addr.substr(addr.rfind(':') + 1)));
  auto res = http.Get("/api/v1/dags/cleanup_after_failure");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  v1::Dag dag;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(res->body, &dag).ok()) << res->body;
  ASSERT_EQ(dag.tasks_size(), 3);
  EXPECT_EQ(dag.tasks(2).task_id(), "cleanup");
  EXPECT_EQ(dag.tasks(2).trigger_rule(), "all_done");
  EXPECT_EQ(dag.tasks(0).trigger_rule(), "all_success");
}

}  // namespace
}  // namespace de::testing
