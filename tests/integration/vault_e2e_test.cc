// Variables and secrets end to end with real processes: dectl var/secret, a DAG using
// {{ var.NAME }} and {{ secret.NAME }} (an unknown one refused at submit, naming the line), the
// task gets the real value while its log shows ***, the secret is not in the database in clear,
// survives a kill -9 of the scheduler (the key file stays in DE_HOME), and a variable deleted
// after submit fails the task with a clear error.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

constexpr char kSecret[] = "hunter2-s3cret-value";

TEST(VaultE2E, VariablesAndSecretsReachTasksAndSecretsStayHidden) {
  Cluster c;
  const std::string listen = absl::StrCat("127.0.0.1:", FreePort());   // the same after restart
  c.StartScheduler(listen);
  c.StartWorker("w1");
  std::string out;
  ASSERT_EQ(c.Dectl({"var", "set", "region", "eu-west-1"}, &out), 0) << out;
  WriteFile(c.data("secret.txt"), std::string(kSecret) + "\n");
  ASSERT_EQ(c.Dectl({"secret", "set", "api_key", "--from-file", c.data("secret.txt")}, &out), 0)
      << out;
  ASSERT_EQ(c.Dectl({"-o", "json", "secret", "list"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "api_key")) << out;
  EXPECT_FALSE(absl::StrContains(out, kSecret)) << out;
  ASSERT_EQ(c.Dectl({"var", "get", "region"}, &out), 0) << out;
  EXPECT_EQ(out, "eu-west-1\n");

  // An unknown name is refused at submit, with where it is.
  WriteFile(c.data("typo.yaml"), "dag: typo\ntasks:\n  - id: t\n    type: shell\n"
                                 "    with: { command: \"echo {{ var.regoin }}\" }\n");
  EXPECT_NE(c.Dectl({"dag", "submit", c.data("typo.yaml")}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "typo.yaml:5:")) << out;
  EXPECT_TRUE(absl::StrContains(out, "unknown variable 'regoin'")) << out;

  const std::string got = c.data("got.txt");
  WriteFile(c.data("use.yaml"),
            "dag: use\ntasks:\n  - id: t\n    type: shell\n    with:\n      command: "
            "\"echo region={{ var.region }} key={{ secret.api_key }}; printf %s \\\"$K\\\" > " +
                got + "; echo {{ secret.api_key }} >&2\"\n      env: { K: \"{{ secret.api_key }}\" }\n");
  ASSERT_EQ(c.Dectl({"dag", "submit", c.data("use.yaml")}, &out), 0) << out;
  const std::string run = c.Trigger("use");
  ASSERT_EQ(c.WaitRunDone(run).state(), "success") << c.Logs();
  EXPECT_EQ(ReadFile(got), kSecret);   // the task had the real value, here through env:
  ASSERT_EQ(c.Dectl({"logs", run, "t"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "region=eu-west-1 key=***")) << out;
  EXPECT_FALSE(absl::StrContains(out, kSecret)) << out;
  // Not in the database in clear.
  EXPECT_FALSE(absl::StrContains(ReadFile(c.home() + "/de.db") + ReadFile(c.home() + "/de.db-wal"),
                                 kSecret));

  // A kill -9 and a restart: the key file in DE_HOME opens the secret again.
  c.KillScheduler(SIGKILL);
  c.StartScheduler(listen);
  const std::string again = c.Trigger("use");
  ASSERT_EQ(c.WaitRunDone(again).state(), "success") << c.Logs();
  EXPECT_EQ(ReadFile(got), kSecret);

  // A variable deleted after submit: the task fails, saying which and why.
  ASSERT_EQ(c.Dectl({"var", "delete", "region"}, &out), 0) << out;
  const std::string gone = c.Trigger("use");
  EXPECT_EQ(c.WaitRunDone(gone).state(), "failed") << c.Logs();
  ASSERT_EQ(c.Dectl({"-o", "json", "runs", "show", gone}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "there is no variable 'region'")) << out;
}

}  // namespace
}  // namespace de::testing
