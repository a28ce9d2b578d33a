// What a user types reaches a task as data, never as code: --conf values with shell
// metacharacters are printed literally by the shipped hello_shell DAG, undeclared or mistyped
// --conf keys are refused by the scheduler, and params reach tasks as DE_PARAM_<NAME>.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

std::string RepoFile(const std::string& rel) {
  return (std::filesystem::path(DE_SOURCE_DIR) / rel).string();
}

std::string RunIdIn(const std::string& out, const std::string& dag) {
  for (auto word : absl::StrSplit(out, absl::ByAnyChar(" \n"))) {
    if (absl::StartsWith(word, dag + "__manual__")) return std::string(word);
  }
  return "";
}

TEST(InputsE2E, ConfWithShellMetacharactersIsPrintedLiterally) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 2);
  std::string out;
  ASSERT_EQ(c.Dectl({"dag", "submit", RepoFile("dags/hello_shell.yaml")}, &out), 0) << out;
  const std::string evil = "x\"; touch pwned; echo \"$(touch pwned2)`touch pwned3`'";
  ASSERT_EQ(c.Dectl({"trigger", "hello_shell", "--conf", "who=" + evil, "--wait"}, &out), 0)
      << out << c.Logs();
  const std::string run_id = RunIdIn(out, "hello_shell");
  ASSERT_FALSE(run_id.empty()) << out;
  EXPECT_EQ(c.Dectl({"logs", run_id, "start"}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "hello, " + evil + "! run " + run_id)) << out;
  for (const char* f : {"pwned", "pwned2", "pwned3"}) {
    EXPECT_FALSE(std::filesystem::exists(c.data(f))) << f;
  }
  // Unknown keys are refused at trigger time by the scheduler, with a suggestion.
  EXPECT_EQ(c.Dectl({"trigger", "hello_shell", "--conf", "wh=x"}, &out), 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "unknown param 'wh' (did you mean 'who'?)")) << out;
}

TEST(InputsE2E, TypedParamsAreCheckedAndReachTheEnvironment) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 2);
  const std::string dag = c.data("typed.yaml");
  WriteFile(dag, R"(dag: typed
params:
  n: { type: int, default: 3 }
  day: { type: date }
  who: world
tasks:
  - id: show
    type: shell
    with: { command: 'echo "n={{ params.n }} env=$DE_PARAM_N day=$DE_PARAM_DAY who=$DE_PARAM_WHO"' }
)");
  std::string out;
  ASSERT_EQ(c.Dectl({"dag", "submit", dag}, &out), 0) << out;
  EXPECT_EQ(c.Dectl({"trigger", "typed", "--conf", "n=abc", "--conf", "day=2024-01-02"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "--conf n=abc: param n is an int")) << out;
  EXPECT_EQ(c.Dectl({"trigger", "typed", "--conf", "day=2024-13-01"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "--conf day=2024-13-01: param day is a date")) << out;
  EXPECT_EQ(c.Dectl({"trigger", "typed"}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "param day (a date) has no default")) << out;

  ASSERT_EQ(c.Dectl({"trigger", "typed", "--conf", "n=7", "--conf", "day=2024-01-02", "--wait"},
                    &out),
            0)
      << out << c.Logs();
  const std::string run_id = RunIdIn(out, "typed");
  ASSERT_FALSE(run_id.empty()) << out;
  EXPECT_EQ(c.Dectl({"logs", run_id, "show"}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "n=7 env=7 day=2024-01-02 who=world")) << out;

  // `| raw` is allowed, and visible: validate warns where it is.
  const std::string raw = c.data("raw.yaml");
  WriteFile(raw, "dag: raw\nparams: { flags: -l }\ntasks:\n"
                 "  - { id: ls, type: shell, with: { command: 'ls {{ params.flags | raw }}' } }\n");
  EXPECT_EQ(c.Dectl({"dag", "validate", raw}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, raw + ":4:45: warning: command: {{ params.flags | raw }} "
                                           "reaches the shell unquoted"))
      << out;
}

// A link inside a drop folder that points out of the data root is refused, as the same file named
// directly is, and nothing lands in the lake.
TEST(InputsE2E, FolderInputWithALinkOutOfTheDataRootIsRefused) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 1);
  TempDir outside;
  WriteFile(outside / "secret.csv", "user,password\nroot,hunter2\n");
  WriteFile(c.data("drop/flights.csv"), "a,b\n1,2\n");
  std::filesystem::create_symlink(outside / "secret.csv", c.data("drop/passwd.csv"));
  c.Submit(R"(
dag: drop
tasks:
  - id: convert
    type: csv_to_parquet
    with: { input: drop, output: lake/drop }
)");
  v1::Run run = c.WaitRunDone(c.Trigger("drop"));
  EXPECT_EQ(run.state(), "failed");
  ASSERT_EQ(run.tasks_size(), 1);
  EXPECT_TRUE(absl::StrContains(run.tasks(0).error(), "is outside the data root"))
      << run.tasks(0).error();
  EXPECT_FALSE(std::filesystem::exists(c.data("lake/drop")));
}

// What a client sends is bounded: a "billion laughs" DAG is refused from its text (the scheduler
// stays responsive), a 5 MiB DAG is over the YAML size limit, and a 17 MiB message is refused by
// gRPC itself with RESOURCE_EXHAUSTED.
TEST(InputsE2E, OversizedAndExplodingDagsAreRefused) {
  Cluster c;
  c.StartScheduler();
  std::string bomb = "dag: bomb\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 12; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) bomb += (k ? ", *a" : "*a") + std::to_string(i - 1);
    bomb += "]\n";
  }
  bomb += "tasks: [{ id: t, type: noop, with: *a11 }]\n";
  auto submit = [&](const std::string& yaml, v1::SubmitDagResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::SubmitDagRequest req;
    req.set_yaml(yaml);
    req.set_source("bomb.yaml");
    return c.api().SubmitDag(&ctx, req, resp);
  };
  v1::SubmitDagResponse resp;
  grpc::Status st = submit(bomb, &resp);
  EXPECT_TRUE(absl::StrContains(st.error_message() + resp.DebugString(),
                                "expands to more than 1000000 nodes"))
      << st.error_message() << resp.DebugString();
  // The same through dectl, offline and online.
  WriteFile(c.data("bomb.yaml"), bomb);
  std::string out;
  EXPECT_EQ(c.Dectl({"dag", "validate", c.data("bomb.yaml")}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "expands to more than")) << out;

  std::string big = "dag: big\ntasks: [{ id: t, type: noop }]\n" + std::string(5 << 20, '#');
  st = submit(big, &resp);
  EXPECT_TRUE(absl::StrContains(st.error_message() + resp.DebugString(),
                                "the limit for a DAG is 4194304 bytes"))
      << st.error_message();
  st = submit(std::string(17 << 20, '#'), &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  // Still serving.
  EXPECT_EQ(c.Dectl({"dag", "list"}, &out), 0) << out;
}

}  // namespace
}  // namespace de::testing
