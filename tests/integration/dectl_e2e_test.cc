// dectl against a real scheduler and worker: what an operator types, and the exit codes scripts
// rely on.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

TEST(DectlE2E, SubmitTriggerWaitShowLogsAndErrors) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 2);
  const std::string good = c.data("hello.yaml");
  WriteFile(good, R"(dag: hello
description: says hello
tasks:
  - id: greet
    type: shell
    with: { command: "echo hello from {{ dag }} with {{ params.who }}" }
  - { id: after, type: noop, needs: [greet] }
params: { who: nobody }
)");
  const std::string bad = c.data("bad.yaml");
  WriteFile(bad, "dag: bad\ntasks:\n  - id: a\n    type: shel\n");
  std::string out;

  // Offline validation: exit 1 with file:line:column and a suggestion; nothing stored.
  EXPECT_EQ(c.Dectl({"dag", "validate", bad}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, bad + ":4:11: unknown task type 'shel' (did you mean 'shell'?)"))
      << out;
  EXPECT_EQ(c.Dectl({"dag", "submit", bad}, &out), 1);
  EXPECT_EQ(c.Dectl({"dag", "show", "bad"}, &out), 1) << out;

  EXPECT_EQ(c.Dectl({"dag", "submit", good}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "hello")) << out;
  EXPECT_EQ(c.Dectl({"dag", "submit", good}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "unchanged")) << out;
  EXPECT_EQ(c.Dectl({"dag", "list"}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "hello")) << out;

  EXPECT_EQ(c.Dectl({"trigger", "hello", "--conf", "who=operators", "--wait"}, &out), 0) << out;
  std::string run_id;
  for (auto word : absl::StrSplit(out, absl::ByAnyChar(" \n"))) {
    if (absl::StartsWith(word, "hello__manual__")) run_id = std::string(word);
  }
  ASSERT_FALSE(run_id.empty()) << out;
  EXPECT_EQ(c.Dectl({"runs", "show", run_id}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "greet")) << out;
  EXPECT_TRUE(absl::StrContains(out, "success")) << out;
  EXPECT_EQ(c.Dectl({"logs", run_id, "greet"}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "hello from hello with operators")) << out;
  EXPECT_EQ(c.Dectl({"--output", "json", "runs", "show", run_id}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "\"state\": \"success\"") ||
              absl::StrContains(out, "\"state\":\"success\""))
      << out;
  EXPECT_EQ(c.Dectl({"workers"}, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "w1")) << out;

  // A failing run makes `trigger --wait` exit non-zero.
  WriteFile(good, "dag: hello\ntasks:\n  - { id: boom, type: shell, with: { command: \"exit 4\" } }\n");
  EXPECT_EQ(c.Dectl({"dag", "submit", good}, &out), 0) << out;
  EXPECT_EQ(c.Dectl({"trigger", "hello", "--wait"}, &out), 1) << out;
  // Paused DAGs refuse triggers with a hint.
  EXPECT_EQ(c.Dectl({"pause", "hello"}, &out), 0) << out;
  EXPECT_EQ(c.Dectl({"trigger", "hello"}, &out), 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "paused")) << out;
  EXPECT_EQ(c.Dectl({"runs", "show", "no-such-run"}, &out), 1) << out;
}

TEST(DectlE2E, UnreachableSchedulerExitsThree) {
  std::string out;
  TempDir dir;
  Process p({DECTL_BIN, "--server", absl::StrCat("127.0.0.1:", FreePort()), "--timeout", "2s",
             "dag", "list"},
            dir / "out");
  EXPECT_EQ(p.Wait(), 3) << ReadFile(dir / "out");
}

}  // namespace
}  // namespace de::testing
