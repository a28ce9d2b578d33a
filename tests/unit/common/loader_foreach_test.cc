// for_each / max_parallel / {{ item }} in the DAG loader (common/dag/loader_foreach.cc).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/dag/dag_params.h"
#include "common/dag/loader.h"
#include "tests/unit/common/loader_test_util.h"
#include "common/limits.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::dag {
namespace {

using testing_util::Errors;
using testing_util::MustLoad;

using ::testing::ElementsAre;

TEST(LoaderForEachTest, ListLiteral) {
  DagSpec d = MustLoad(
      "dag: m\n"
      "tasks:\n"
      "  - id: conv\n"
      "    type: shell\n"
      "    for_each: [a, b, 3]\n"
      "    max_parallel: 2\n"
      "    with: { command: \"echo {{ item }} {{ map_index }}\" }\n"
      "  - { id: after, type: noop, needs: [conv] }\n");
  ASSERT_EQ(d.tasks.size(), 2u);
  ASSERT_TRUE(d.tasks[0].for_each.has_value());
  EXPECT_EQ(d.tasks[0].for_each->kind, ForEachSpec::Kind::kList);
  EXPECT_THAT(d.tasks[0].for_each->items, ElementsAre("a", "b", "3"));
  EXPECT_EQ(d.tasks[0].max_parallel, 2);
  EXPECT_EQ(d.tasks[0].for_each->loc.line, 5);
  EXPECT_FALSE(d.tasks[1].for_each.has_value());
}

TEST(LoaderForEachTest, ParamListAndString) {
  DagSpec d = MustLoad(
      "dag: m\n"
      "params:\n"
      "  files: { type: list, default: [x.csv, \" y.csv \"] }\n"
      "  names: \"p, q\"\n"
      "tasks:\n"
      "  - { id: a, type: noop, for_each: { param: files } }\n"
      "  - { id: b, type: noop, for_each: { param: names } }\n");
  ASSERT_EQ(d.tasks.size(), 2u);
  EXPECT_EQ(d.tasks[0].for_each->kind, ForEachSpec::Kind::kParam);
  EXPECT_EQ(d.tasks[0].for_each->param, "files");
  EXPECT_EQ(d.params.at("files"), "x.csv,y.csv");
  EXPECT_EQ(d.param_decls.at("files").type, ParamType::kList);
  EXPECT_THAT(SplitListParam(d.params.at("names")), ElementsAre("p", "q"));
  EXPECT_EQ(*NormalizeParamValue(ParamType::kList, " a ,, b,"), "a,b");
}

TEST(LoaderForEachTest, GlobAndPartitions) {
  DagSpec d = MustLoad(
      "dag: m\n"
      "tasks:\n"
      "  - id: g\n"
      "    type: csv_to_parquet\n"
      "    for_each: { glob: \"raw/{{ ds }}/*.csv\" }\n"
      "    with: { input: \"{{ item }}\", output: \"lake/t/part={{ map_index }}\" }\n"
      "  - id: p\n"
      "    type: shell\n"
      "    for_each: { partitions: { path: lake/t, from: \"{{ ds }}\" } }\n"
      "    with: { command: \"ls {{ item }}\" }\n");
  ASSERT_EQ(d.tasks.size(), 2u);
  EXPECT_EQ(d.tasks[0].for_each->kind, ForEachSpec::Kind::kGlob);
  EXPECT_EQ(d.tasks[0].for_each->glob, "raw/{{ ds }}/*.csv");
  EXPECT_EQ(d.tasks[1].for_each->kind, ForEachSpec::Kind::kPartitions);
  EXPECT_EQ(d.tasks[1].for_each->path, "lake/t");
  EXPECT_EQ(d.tasks[1].for_each->from, "{{ ds }}");
  EXPECT_EQ(d.tasks[1].for_each->to, "{{ data_interval_end }}");   // the run's interval
}

TEST(LoaderForEachTest, ErrorsNameFileAndLine) {
  EXPECT_THAT(Errors("dag: m\ntasks:\n  - { id: a, type: noop, for_each: 3 }\n"),
              ElementsAre("t.yaml:3:36: for_each must be a list, {param: NAME}, {glob: PATTERN} "
                          "or {partitions: {path, from, to}}"));
  EXPECT_THAT(Errors("dag: m\ntasks:\n  - { id: a, type: noop, for_each: { glop: x } }\n"),
              ElementsAre("t.yaml:3:38: unknown for_each form 'glop' (did you mean 'glob'?): "
                          "for_each must be a list, {param: NAME}, {glob: PATTERN} or "
                          "{partitions: {path, from, to}}"));
  EXPECT_THAT(Errors("dag: m\nparams: { n: { type: int, default: 1 } }\n"
                     "tasks:\n  - { id: a, type: noop, for_each: { param: n } }\n"),
              ElementsAre("t.yaml:4:45: for_each.param: param 'n' must be a list or a string "
                          "(comma-separated items)"));
  EXPECT_THAT(Errors("dag: m\nparams: { files: a }\n"
                     "tasks:\n  - { id: a, type: noop, for_each: { param: filez } }\n"),
              ElementsAre("t.yaml:4:45: for_each.param: unknown param 'filez' (did you mean "
                          "'files'?)"));
  EXPECT_THAT(Errors("dag: m\ntasks:\n  - { id: a, type: noop, for_each: [[x]] }\n"),
              ElementsAre("t.yaml:3:37: for_each items must be scalars (strings or numbers)"));
  EXPECT_THAT(Errors("dag: m\ntasks:\n  - { id: a, type: noop, max_parallel: 2 }\n"),
              ElementsAre("t.yaml:3:40: max_parallel is for tasks with for_each"));
  EXPECT_THAT(Errors("dag: m\ntasks:\n  - { id: a, type: noop, for_each: [x], max_parallel: 0 }\n"),
              ElementsAre("t.yaml:3:55: max_parallel must be a positive integer"));
  EXPECT_THAT(
      Errors("dag: m\ntasks:\n  - id: a\n    type: shell\n    with: { command: \"echo {{ item }}\" }\n"),
      ElementsAre("t.yaml:5:22: '{{ item }}' is only defined in a task with for_each (task 'a')"));
  EXPECT_THAT(Errors("dag: m\ntasks:\n  - { id: a, type: noop, for_each: { partitions: { from: x } } }\n"),
              ElementsAre("t.yaml:3:50: for_each.partitions is missing 'path'"));
}

TEST(LoaderForEachTest, TooManyItemsIsAnError) {
  std::string items;
  for (int i = 0; i <= kMaxMapItems; ++i) absl::StrAppend(&items, i == 0 ? "" : ", ", i);
  EXPECT_THAT(Errors(absl::StrCat("dag: m\ntasks:\n  - { id: a, type: noop, for_each: [", items,
                                  "] }\n")),
              ElementsAre(absl::StrCat("t.yaml:3:36: for_each has ", kMaxMapItems + 1,
                                       " items; a task maps over at most ", kMaxMapItems)));
}

}  // namespace
}  // namespace de::dag
