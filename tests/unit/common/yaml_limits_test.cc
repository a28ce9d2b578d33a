// DAG files beyond the limits are refused from their text, before a tree is built, with where.
#include "common/dag/yaml_limits.h"

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/dag/loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::dag {
namespace {

using ::testing::HasSubstr;

// The classic "billion laughs": ten levels of ten aliases each, 10^10 nodes once expanded.
std::string BillionLaughs() {
  std::string y = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    std::string prev = absl::StrCat("*a", i - 1);
    y += absl::StrCat("a", i, ": &a", i, " [", prev);
    for (int k = 0; k < 9; ++k) y += ", " + prev;
    y += "]\n";
  }
  return absl::StrCat("dag: bomb\n", y, "tasks: [{ id: t, type: noop, with: *a9 }]\n");
}

TEST(YamlLimitsTest, BillionLaughsIsRefusedByTheLoader) {
  const std::string bomb = BillionLaughs();
  LoadResult r = LoadDag(bomb, "bomb.yaml");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].ToString(),
              HasSubstr("expands to more than 1000000 nodes through its aliases"));
  EXPECT_THAT(r.errors[0].ToString(), ::testing::StartsWith("bomb.yaml:"));
  EXPECT_GT(r.errors[0].line, 1);
}

TEST(YamlLimitsTest, EachLimitSaysWhere) {
  YamlLimits l;
  l.max_bytes = 100;
  auto big = CheckYamlLimits(std::string(101, '#'), l);
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->message, "file is 101 bytes; the limit for a DAG is 100 bytes");

  l = YamlLimits();
  l.max_tasks = 2;
  auto tasks = CheckYamlLimits("dag: d\ntasks:\n  - { id: a, type: noop }\n  - { id: b, type: noop }\n"
                               "  - { id: c, type: noop }\n", l);
  ASSERT_TRUE(tasks.has_value());
  EXPECT_EQ(tasks->message, "more than 2 tasks in one DAG (split it into several DAGs)");
  EXPECT_EQ(tasks->line, 5);
  EXPECT_FALSE(CheckYamlLimits("dag: d\ntasks:\n  - { id: a, type: noop }\n  - { id: b, type: noop }\n", l));

  l = YamlLimits();
  l.max_params = 2;
  auto params = CheckYamlLimits("dag: d\nparams:\n  a: 1\n  b: 2\n  c: 3\n", l);
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->message, "more than 2 params in one DAG");
  EXPECT_EQ(params->line, 5);
  EXPECT_FALSE(CheckYamlLimits("dag: d\nparams:\n  a: 1\n  b: { type: int, default: 2 }\n", l));

  l = YamlLimits();
  l.max_nodes = 10;
  auto nodes = CheckYamlLimits("a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n", l);
  ASSERT_TRUE(nodes.has_value());
  EXPECT_THAT(nodes->message, HasSubstr("more than 10 YAML nodes"));

  l = YamlLimits();
  l.max_depth = 5;
  auto deep = CheckYamlLimits("a: [[[[[[1]]]]]]\n", l);
  ASSERT_TRUE(deep.has_value());
  EXPECT_THAT(deep->message, HasSubstr("nested more than 5 levels deep"));
}

TEST(YamlLimitsTest, OrdinaryFilesAndSyntaxErrorsPass) {
  EXPECT_FALSE(CheckYamlLimits("dag: d\nx: &x { a: 1 }\ny: *x\ntasks: [{ id: a, type: noop }]\n"));
  EXPECT_FALSE(CheckYamlLimits("dag: [unclosed\n"));  // the loader reports the syntax error
  EXPECT_FALSE(CheckYamlLimits(""));
}

TEST(YamlLimitsTest, FiftyThousandTasksLoad) {
  std::string y = "dag: many\ntasks:\n";
  for (int i = 0; i < 50000; ++i) y += absl::StrCat("  - { id: t", i, ", type: noop }\n");
  EXPECT_FALSE(CheckYamlLimits(y));
  y += "  - { id: one_more, type: noop }\n";
  LoadResult r = LoadDag(y, "many.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].ToString(),
            "many.yaml:50003:5: more than 50000 tasks in one DAG (split it into several DAGs)");
}

}  // namespace
}  // namespace de::dag
