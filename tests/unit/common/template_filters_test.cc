// `{{ name | basename }}`, `dirname`, `stem` (and `raw`): what each makes of a path, in a
// rendered value and in a shell command, and the errors for filters that do not exist.
#include "common/dag/template_filters.h"

#include <string>

#include "common/dag/template.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/common/loader_test_util.h"

namespace de::dag {
namespace {

using ::testing::ElementsAre;
using testing_util::Errors;

std::string Apply(TemplateFilter f, const std::string& v) { return ApplyTemplateFilter(f, v); }

TEST(TemplateFiltersTest, PathFilters) {
  EXPECT_EQ(Apply(TemplateFilter::kBasename, "archive/2024/a.csv.gz"), "a.csv.gz");
  EXPECT_EQ(Apply(TemplateFilter::kBasename, "a.csv"), "a.csv");
  EXPECT_EQ(Apply(TemplateFilter::kBasename, "lake/dt=2024-01-01/"), "dt=2024-01-01");
  EXPECT_EQ(Apply(TemplateFilter::kDirname, "archive/2024/a.csv.gz"), "archive/2024");
  EXPECT_EQ(Apply(TemplateFilter::kDirname, "a.csv"), ".");
  EXPECT_EQ(Apply(TemplateFilter::kDirname, "/a.csv"), "/");
  EXPECT_EQ(Apply(TemplateFilter::kStem, "archive/flights-2024-01-05.csv.gz"), "flights-2024-01-05");
  EXPECT_EQ(Apply(TemplateFilter::kStem, "report.2024.csv"), "report.2024");
  EXPECT_EQ(Apply(TemplateFilter::kStem, "x.tar.zst"), "x");
  EXPECT_EQ(Apply(TemplateFilter::kStem, "conf/.env"), ".env");
  EXPECT_EQ(Apply(TemplateFilter::kStem, "README"), "README");
  EXPECT_EQ(Apply(TemplateFilter::kRaw, "a b"), "a b");
}

TEST(TemplateFiltersTest, RenderedAndChained) {
  TemplateContext ctx;
  ctx.vars["item"] = "archive/2024/flights-01.csv.gz";
  EXPECT_EQ(*RenderTemplate("lake/{{ item | stem }}/{{item|basename}}", ctx),
            "lake/flights-01/flights-01.csv.gz");
  EXPECT_EQ(*RenderTemplate("{{ item | dirname | basename }}", ctx), "2024");
  ctx.vars["item"] = "in/it's here.csv";
  // In a shell command the filtered value is quoted as any value; `raw` still opts out.
  EXPECT_EQ(*RenderShellCommand("mv {{ item }} out/{{ item | stem }}.txt", ctx),
            "mv 'in/it'\\''s here.csv' out/'it'\\''s here'.txt");
  EXPECT_EQ(*RenderShellCommand("echo {{ item | basename | raw }}", ctx), "echo it's here.csv");
}

TEST(TemplateFiltersTest, AnUnknownFilterIsNamedWithWhereItIs) {
  TemplateContext ctx;
  ctx.vars["item"] = "a.csv";
  auto r = RenderTemplate("{{ item | basenam }}", ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "unknown filter 'basenam' in '{{ item | basenam }}' (did you mean 'basename'?); "
            "filters: basename, dirname, stem, raw");
  EXPECT_EQ(RenderTemplate("{{ item | }}", ctx).status().message(),
            "empty filter in '{{ item |  }}'");
  // At submit/validate: file:line:column of the reference, in with: and in a shell command.
  EXPECT_THAT(Errors(R"(dag: m
tasks:
  - id: convert
    type: csv_to_parquet
    for_each: { glob: "archive/*.csv.gz" }
    with: { input: "{{ item }}", output: "lake/{{ item | upper }}" }
  - id: report
    type: shell
    for_each: [a, b]
    with:
      command: |
        echo start
        echo {{ item | stme }}
)"),
              ElementsAre("t.yaml:6:48: unknown filter 'upper' in '{{ item | upper }}'; filters: "
                          "basename, dirname, stem, raw",
                          "t.yaml:13:14: unknown filter 'stme' in '{{ item | stme }}' (did you "
                          "mean 'stem'?); filters: basename, dirname, stem, raw"));
}

}  // namespace
}  // namespace de::dag
