// wait_for entries on data (common/dag/loader_waits.cc): the path and glob forms, their keys and
// defaults, and every mistake named with file:line:column.
#include <string>
#include <vector>

#include "common/dag/loader.h"
#include "tests/unit/common/loader_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::dag {
namespace {

using testing_util::Errors;
using testing_util::MustLoad;

using ::testing::ElementsAre;

std::string WithWaits(const std::string& waits) {
  return "dag: x\nparams: { raw_dir: raw }\nwait_for:\n" + waits + "tasks: [{id: a, type: noop}]\n";
}

TEST(LoaderWaitsTest, PathAndGlobForms) {
  DagSpec d = MustLoad(WithWaits(R"(  - path: "{{ params.raw_dir }}/flights-{{ ds }}.csv.gz"
    timeout: 6h
  - glob: "raw/{{ ds_nodash }}/*.csv"
    min_files: 24
    poke_interval: 1m
    exponential_backoff: true
    min_age: 30s
  - dag: other
)"));
  ASSERT_EQ(d.wait_for.size(), 3u);
  const WaitFor& p = d.wait_for[0];
  EXPECT_EQ(p.kind, WaitKind::kPath);
  EXPECT_EQ(p.pattern, "{{ params.raw_dir }}/flights-{{ ds }}.csv.gz");
  EXPECT_EQ(p.timeout, absl::Hours(6));
  EXPECT_EQ(p.min_files, 1);
  EXPECT_EQ(p.poke_interval, absl::Seconds(30));  // the default
  EXPECT_FALSE(p.exponential_backoff);
  EXPECT_EQ(p.min_age, absl::ZeroDuration());
  EXPECT_EQ(p.loc.line, 4);
  const WaitFor& g = d.wait_for[1];
  EXPECT_EQ(g.kind, WaitKind::kGlob);
  EXPECT_EQ(g.pattern, "raw/{{ ds_nodash }}/*.csv");
  EXPECT_EQ(g.min_files, 24);
  EXPECT_EQ(g.poke_interval, absl::Minutes(1));
  EXPECT_TRUE(g.exponential_backoff);
  EXPECT_EQ(g.min_age, absl::Seconds(30));
  EXPECT_EQ(g.timeout, std::nullopt);
  EXPECT_EQ(d.wait_for[2].kind, WaitKind::kDag);
  EXPECT_EQ(d.wait_for[2].dag, "other");
}

TEST(LoaderWaitsTest, BadKeysAndValuesNameTheirPlace) {
  EXPECT_THAT(Errors(WithWaits(R"(  - path: raw/a.csv
    min_file: 3
    poke_interval: 500ms
  - glob: "raw/*.csv"
    min_files: 0
    min_age: soon
    exponential_backoff: maybe
  - path: raw/a.csv
    glob: "raw/*.csv"
  - path: raw/a.csv
    min_files: 2
    timeout: 0s
)")),
              ElementsAre("t.yaml:5:5: unknown wait_for key 'min_file' (did you mean 'min_files'?)",
                          "t.yaml:6:20: wait_for.poke_interval must be at least 1s",
                          "t.yaml:8:16: wait_for.min_files must be a positive integer",
                          "t.yaml:9:14: wait_for.min_age: invalid duration 'soon': expected e.g. "
                          "30s, 5m, 1h30m, 500ms, 2d, -7d",
                          "t.yaml:10:26: wait_for.exponential_backoff must be true or false",
                          "t.yaml:12:11: wait_for entry has both 'path' and 'glob'; write one "
                          "entry for each",
                          "t.yaml:14:16: min_files is for glob: waits (a path: wait waits for one "
                          "file or folder)",
                          "t.yaml:15:14: wait_for.timeout must be positive"));
}

TEST(LoaderWaitsTest, PathsStayInsideTheDataRoot) {
  EXPECT_THAT(Errors(WithWaits(R"(  - path: /etc/passwd
  - glob: "raw/../../*.csv"
  - path: "raw/*.csv"
  - path: ""
  - glob: [a, b]
)")),
              ElementsAre("t.yaml:4:11: wait_for.path '/etc/passwd' must be relative to the data "
                          "root (no leading '/')",
                          "t.yaml:5:11: wait_for.glob 'raw/../../*.csv' must stay inside the data "
                          "root (no '..')",
                          "t.yaml:6:11: wait_for.path 'raw/*.csv' has glob characters; write "
                          "glob: (with min_files:) instead",
                          "t.yaml:7:11: wait_for.path must not be empty",
                          "t.yaml:8:11: wait_for.glob must be a string"));
}

TEST(LoaderWaitsTest, TemplatesAreChecked) {
  std::vector<std::string> errs = Errors(WithWaits(R"(  - path: "raw/{{ dss }}.csv"
  - path: "{{ params.raw }}/a.csv"
  - path: "raw/{{ task }}.csv"
  - glob: "raw/{{ secret.key }}/*.csv"
  - path: "raw/{{ ds"
)"));
  ASSERT_EQ(errs.size(), 5u) << ::testing::PrintToString(errs);
  EXPECT_THAT(errs[0], ::testing::StartsWith("t.yaml:4:"));
  EXPECT_THAT(errs[0], ::testing::HasSubstr("dss"));
  EXPECT_THAT(errs[0], ::testing::HasSubstr("did you mean 'ds'"));
  EXPECT_THAT(errs[1], ::testing::StartsWith("t.yaml:5:"));
  EXPECT_THAT(errs[1], ::testing::HasSubstr("params.raw"));
  EXPECT_EQ(errs[2],
            "t.yaml:6:11: '{{ task }}' has no value in a wait_for path (it is checked "
            "before any task runs)");
  EXPECT_THAT(errs[3], ::testing::StartsWith("t.yaml:7:"));
  EXPECT_THAT(errs[3], ::testing::HasSubstr("variables and secrets are for a task's `with:` only"));
  EXPECT_THAT(errs[4], ::testing::StartsWith("t.yaml:8:"));
  EXPECT_THAT(errs[4], ::testing::HasSubstr("unterminated '{{'"));
}

TEST(LoaderWaitsTest, AnEntryNeedsDagPathOrGlob) {
  EXPECT_THAT(Errors(WithWaits("  - timeout: 1h\n  - raw/a.csv\n")),
              ElementsAre("t.yaml:4:5: wait_for entry is missing 'dag' (or 'path' or 'glob' for "
                          "data)",
                          "t.yaml:5:5: each wait_for entry must be a mapping with 'dag', 'path' "
                          "or 'glob'"));
}

}  // namespace
}  // namespace de::dag
