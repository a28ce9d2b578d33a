#include "common/dag/dag_params.h"

#include "common/dag/loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::dag {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Errors(const std::string& yaml) {
  std::vector<std::string> out;
  for (const auto& d : LoadDag(yaml, "p.yaml").errors) out.push_back(d.ToString());
  return out;
}

TEST(DagParamsTest, ShortAndLongFormsAreRead) {
  LoadResult r = LoadDag(R"(dag: p
params:
  who: world
  n: { type: int, default: "007" }
  on: { type: bool, default: yes }
  day: { type: date, description: the day }
  empty:
tasks: [{ id: a, type: shell, with: { command: "echo {{ params.n }} {{ params.day }}" } }]
)",
                         "p.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  EXPECT_EQ(r.dag->params.at("who"), "world");
  EXPECT_EQ(r.dag->params.at("n"), "7");
  EXPECT_EQ(r.dag->params.at("on"), "true");
  EXPECT_EQ(r.dag->params.at("empty"), "");
  EXPECT_EQ(r.dag->params.count("day"), 0u);  // no default
  EXPECT_EQ(r.dag->param_decls.at("day").type, ParamType::kDate);
  EXPECT_FALSE(r.dag->param_decls.at("day").has_default);
  EXPECT_EQ(r.dag->param_decls.at("day").description, "the day");
  EXPECT_EQ(r.dag->param_decls.at("who").type, ParamType::kString);
  EXPECT_EQ(r.dag->param_decls.at("n").loc.line, 4);
}

TEST(DagParamsTest, BadDeclarationsNameFileAndLine) {
  EXPECT_THAT(Errors("dag: p\nparams:\n  n: { type: integer }\ntasks: [{ id: a, type: noop }]\n"),
              ElementsAre("p.yaml:3:14: params.n.type must be string, int, float, bool, date or list, "
                          "not 'integer'"));
  EXPECT_THAT(Errors("dag: p\nparams:\n  n: { type: int, default: x }\ntasks: [{ id: a, type: noop }]\n"),
              ElementsAre("p.yaml:3:28: params.n.default: 'x' is not an int"));
  EXPECT_THAT(Errors("dag: p\nparams:\n  n: { typ: int }\ntasks: [{ id: a, type: noop }]\n"),
              ElementsAre("p.yaml:3:8: params.n: unknown key 'typ' (expected type, default, "
                          "description)"));
  EXPECT_THAT(Errors("dag: p\nschedule: '@daily'\nstart_date: 2024-01-01\nparams:\n"
                     "  d: { type: date }\ntasks: [{ id: a, type: noop }]\n"),
              ElementsAre("p.yaml:5:3: params.d has no default, but scheduled runs have no "
                          "--conf: give it a default"));
  EXPECT_THAT(Errors("dag: p\nparams: [a]\ntasks: [{ id: a, type: noop }]\n"),
              ElementsAre("p.yaml:2:9: params must be a mapping of name: value"));
}

TEST(DagParamsTest, NormalizeValues) {
  EXPECT_EQ(*NormalizeParamValue(ParamType::kInt, " 42 "), "42");
  EXPECT_FALSE(NormalizeParamValue(ParamType::kInt, "4.2").ok());
  EXPECT_FALSE(NormalizeParamValue(ParamType::kInt, "99999999999999999999").ok());
  EXPECT_EQ(*NormalizeParamValue(ParamType::kFloat, "1.5e3"), "1.5e3");
  EXPECT_FALSE(NormalizeParamValue(ParamType::kFloat, "nan").ok());
  EXPECT_EQ(*NormalizeParamValue(ParamType::kBool, "Off"), "false");
  EXPECT_EQ(*NormalizeParamValue(ParamType::kBool, " YES "), "true");
  EXPECT_EQ(*NormalizeParamValue(ParamType::kBool, "1"), "true");
  EXPECT_EQ(*NormalizeParamValue(ParamType::kBool, "0"), "false");
  EXPECT_FALSE(NormalizeParamValue(ParamType::kBool, "01").ok());
  EXPECT_FALSE(NormalizeParamValue(ParamType::kBool, "maybe").ok());
  EXPECT_EQ(*NormalizeParamValue(ParamType::kDate, "2024-02-29"), "2024-02-29");
  EXPECT_FALSE(NormalizeParamValue(ParamType::kDate, "2023-02-29").ok());
  EXPECT_FALSE(NormalizeParamValue(ParamType::kDate, "2024-1-1").ok());
  EXPECT_EQ(*NormalizeParamValue(ParamType::kString, " a b "), " a b ");
}

TEST(DagParamsTest, CheckConf) {
  LoadResult r = LoadDag(
      "dag: p\nparams:\n  who: world\n  n: { type: int, default: 3 }\n  d: { type: date }\n"
      "tasks: [{ id: a, type: noop }]\n",
      "p.yaml");
  ASSERT_TRUE(r.ok());
  auto ok = CheckConf(*r.dag, {{"n", "05"}, {"d", "2024-01-01"}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->at("n"), "5");
  auto bad = CheckConf(*r.dag, {{"n", "abc"}, {"wh", "x"}, {"d", "2024-01-01"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("--conf n=abc: param n is an int"));
  EXPECT_THAT(bad.status().message(), HasSubstr("unknown param 'wh' (did you mean 'who'?)"));
  auto missing = CheckConf(*r.dag, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "param d (a date) has no default: give it with --conf d=...");
  EXPECT_FALSE(CheckConf(*r.dag, {{"who", std::string("a\0b", 3)}, {"d", "2024-01-01"}}).ok());
}

TEST(DagParamsTest, EnvNames) {
  EXPECT_EQ(ParamEnvName("raw_dir"), "DE_PARAM_RAW_DIR");
  EXPECT_EQ(ParamEnvName("a-b.c"), "DE_PARAM_A_B_C");
}

// Two params whose environment variables would be the same are refused (one value would be lost).
TEST(DagParamsTest, ParamsSharingAnEnvNameAreRefused) {
  EXPECT_THAT(Errors("dag: p\nparams:\n  raw_dir: a\n  Raw-Dir: b\ntasks: [{ id: a, type: noop }]\n"),
              ElementsAre("p.yaml:4:3: params.Raw-Dir and params.raw_dir both reach tasks as "
                          "DE_PARAM_RAW_DIR: rename one"));
}

TEST(DagParamsTest, ShellCommandPlacesAreCheckedAtSubmit) {
  EXPECT_THAT(Errors("dag: p\nparams: { x: a }\ntasks:\n"
                     "  - { id: a, type: shell, with: { command: 'echo `echo {{ params.x }}`' } }\n"),
              ElementsAre(::testing::StartsWith(
                  "p.yaml:4:44: command: {{ params.x }} inside backticks `...`: de cannot quote")));
  LoadResult r = LoadDag("dag: p\nparams: { x: a }\ntasks:\n"
                         "  - { id: a, type: shell, with: { command: 'echo {{ params.x | raw }}' } }\n",
                         "p.yaml");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0].ToString(),
              HasSubstr("p.yaml:4:44: command: {{ params.x | raw }} reaches the shell unquoted"));
}

}  // namespace
}  // namespace de::dag
