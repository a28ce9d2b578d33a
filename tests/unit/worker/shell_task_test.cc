#include "worker/shell_task.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::worker {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<ProcessSpec> FromYaml(const std::string& yaml, std::string_view base = "") {
  return ShellTaskSpec(YAML::Load(yaml), base);
}

std::string RunSpec(const ProcessSpec& spec) {
  std::string out;
  auto r = RunProcess(spec, [&out](std::string_view c) { out.append(c); });
  EXPECT_TRUE(r.ok()) << r.status();
  return out;
}

TEST(ShellTaskTest, StringCommandRunsThroughTheShell) {
  auto spec = FromYaml("command: echo hi && echo there");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_THAT(spec->argv, ElementsAre("/bin/sh", "-c", "echo hi && echo there"));
  EXPECT_EQ(RunSpec(*spec), "hi\nthere\n");
}

TEST(ShellTaskTest, ArgsAreAppendedAsSeparateWordsToAStringCommand) {
  auto spec = FromYaml(R"(
command: printf '[%s]'
args: ["a b", "it's", "$HOME", "*"]
)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(RunSpec(*spec), "[a b][it's][$HOME][*]");
}

TEST(ShellTaskTest, ListCommandIsArgvWithArgsAppended) {
  auto spec = FromYaml(R"(
command: [printf, "%s-"]
args: [x, 2]
)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_THAT(spec->argv, ElementsAre("printf", "%s-", "x", "2"));
  EXPECT_EQ(RunSpec(*spec), "x-2-");
}

TEST(ShellTaskTest, EnvAndCwd) {
  auto spec = FromYaml(R"(
command: echo $GREETING $EMPTY.
env: { GREETING: hello, EMPTY: }
cwd: sub/dir
)",
                       "/data");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->env.at("GREETING"), "hello");
  EXPECT_EQ(spec->env.at("EMPTY"), "");
  EXPECT_EQ(spec->cwd, "/data/sub/dir");

  auto absolute = FromYaml("{command: x, cwd: /tmp}", "/data");
  ASSERT_TRUE(absolute.ok());
  EXPECT_EQ(absolute->cwd, "/tmp");
}

TEST(ShellTaskTest, Errors) {
  struct Case {
    const char* yaml;
    const char* message;
  } cases[] = {
      {"", "shell task: 'command' is required"},
      {"args: [a]", "shell task: 'command' is required"},
      {"command: {a: b}", "shell task: 'command' must be a string or a list"},
      {"command: ''", "shell task: 'command' must not be empty"},
      {"command: []", "shell task: 'command' must not be empty"},
      {"command: [[a]]", "shell task: 'command' item 1 must be a string"},
      {"{command: x, args: a}", "shell task: 'args' must be a list"},
      {"{command: x, env: [a]}", "shell task: 'env' must be a map"},
      {"{command: x, env: {A: [1]}}", "shell task: 'env' value of A must be a string"},
      {"{command: x, cwd: [a]}", "shell task: 'cwd' must be a non-empty string"},
      {"{command: x, comand: y}", "shell task: unknown key 'comand'"},
      {"[a, b]", "shell task: 'with' must be a map"},
  };
  for (const auto& c : cases) {
    auto spec = FromYaml(c.yaml);
    ASSERT_FALSE(spec.ok()) << c.yaml;
    EXPECT_TRUE(absl::IsInvalidArgument(spec.status()));
    EXPECT_THAT(std::string(spec.status().message()), HasSubstr(c.message)) << c.yaml;
  }
}

}  // namespace
}  // namespace de::worker
