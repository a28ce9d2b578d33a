// {{ var.NAME }} and {{ secret.NAME }}: the loader accepts them in a task's `with:` (recording
// each, with its position, for the scheduler's submit-time check), refuses them in params and
// alert hooks and for a bad name; rendering takes the values resolved for the attempt, quoting a
// secret in a shell command like any value.
#include "absl/strings/str_cat.h"
#include "common/dag/loader.h"
#include "common/dag/template.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::dag {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) absl::StrAppend(&out, e.ToString(), "\n");
  return out;
}

TEST(TemplateVars, TaskWithRecordsEachReferenceWithItsPosition) {
  LoadResult r = LoadDag(
      "dag: vv\n"
      "tasks:\n"
      "  - id: a\n"
      "    type: shell\n"
      "    with: { command: \"curl -H 'k: {{ secret.api_key }}' {{ var.base_url }}/{{ ds }}\" }\n"
      "  - id: b\n"
      "    type: shell\n"
      "    with:\n"
      "      command: echo {{ var.base_url }}\n",
      "vv.yaml");
  ASSERT_TRUE(r.ok()) << Errors(r);
  EXPECT_THAT(r.dag->FindTask("a")->external_refs, ElementsAre("secret.api_key", "var.base_url"));
  EXPECT_THAT(r.dag->FindTask("b")->external_refs, ElementsAre("var.base_url"));
  ASSERT_EQ(r.dag->external_refs.size(), 3u);
  EXPECT_EQ(r.dag->external_refs[2].name, "var.base_url");
  EXPECT_EQ(r.dag->external_refs[2].line, 9);
}

TEST(TemplateVars, BadNamesAndPlacesAreErrors) {
  LoadResult r = LoadDag(
      "dag: vv\n"
      "params: { who: \"{{ var.x }}\" }\n"
      "alerts:\n"
      "  - on: [failure]\n"
      "    command: [\"notify\", \"{{ secret.token }}\"]\n"
      "tasks:\n"
      "  - id: a\n"
      "    type: shell\n"
      "    with: { command: \"echo {{ var.a-b }}\" }\n",
      "vv.yaml");
  const std::string errors = Errors(r);
  EXPECT_THAT(errors, HasSubstr("vv.yaml:2:"));
  EXPECT_THAT(errors, HasSubstr("'{{ var.x }}': variables and secrets are for a task's `with:` only"));
  EXPECT_THAT(errors, HasSubstr("'{{ secret.token }}': variables and secrets are for a task's"));
  EXPECT_THAT(errors, HasSubstr("'{{ var.a-b }}': a variable name is letters, digits and _"));
}

TEST(TemplateVars, RenderingUsesTheResolvedValuesAndQuotesThemInAShell) {
  TemplateContext ctx;
  ctx.variables["region"] = "eu";
  ctx.secrets["pw"] = "a'b; rm -rf /";
  EXPECT_EQ(*RenderTemplate("r={{ var.region }}", ctx), "r=eu");
  auto shell = RenderShellCommand("login --pw {{ secret.pw }} --r \"{{ var.region }}\"", ctx);
  ASSERT_TRUE(shell.ok()) << shell.status();
  EXPECT_EQ(*shell, "login --pw 'a'\\''b; rm -rf /' --r \"eu\"");
  auto missing = RenderTemplate("{{ secret.other }}", ctx);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("the secret was not resolved for this task"));
}

}  // namespace
}  // namespace de::dag
