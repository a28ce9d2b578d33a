// DAG files beyond the limits are refused from their text, before a tree is built, with where.
#include "common/dag/yaml_limits.h"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

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
  struct LimitCase {
    std::function<void(YamlLimits&)> set;  // lowers one limit
    std::string over;                      // a text beyond it
    std::string message;                   // the whole message, or (`substring`) part of it
    bool substring = false;
    int line = 0;       // where, checked when > 0
    std::string under;  // a text within it, checked when not empty
  };
  const std::vector<LimitCase> cases = {
      {[](YamlLimits& l) { l.max_bytes = 100; }, std::string(101, '#'),
       "file is 101 bytes; the limit for a DAG is 100 bytes", false, 0, ""},
      {[](YamlLimits& l) { l.max_tasks = 2; },
       "dag: d\ntasks:\n  - { id: a, type: noop }\n  - { id: b, type: noop }\n"
       "  - { id: c, type: noop }\n",
       "more than 2 tasks in one DAG (split it into several DAGs)", false, 5,
       "dag: d\ntasks:\n  - { id: a, type: noop }\n  - { id: b, type: noop }\n"},
      {[](YamlLimits& l) { l.max_params = 2; }, "dag: d\nparams:\n  a: 1\n  b: 2\n  c: 3\n",
       "more than 2 params in one DAG", false, 5,
       "dag: d\nparams:\n  a: 1\n  b: { type: int, default: 2 }\n"},
      {[](YamlLimits& l) { l.max_nodes = 10; }, "a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n",
       "more than 10 YAML nodes", true, 0, ""},
      {[](YamlLimits& l) { l.max_depth = 5; }, "a: [[[[[[1]]]]]]\n",
       "nested more than 5 levels deep", true, 0, ""},
  };
  for (const LimitCase& c : cases) {
    YamlLimits l;
    c.set(l);
    auto hit = CheckYamlLimits(c.over, l);
    ASSERT_TRUE(hit.has_value()) << c.message;
    if (c.substring) {
      EXPECT_THAT(hit->message, HasSubstr(c.message));
    } else {
      EXPECT_EQ(hit->message, c.message);
    }
    if (c.line > 0) {
      EXPECT_EQ(hit->line, c.line) << c.message;
    }
    if (!c.under.empty()) {
      EXPECT_FALSE(CheckYamlLimits(c.under, l)) << c.message;
    }
  }
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
