// Where the loader's errors point: a template inside a block scalar (| and >) at its own line and
// column, and a tab in the indentation at its line (yaml-cpp's own message does not say "tab").
#include <string>
#include <vector>

#include "common/dag/loader.h"
#include "tests/unit/common/loader_test_util.h"
#include "common/dag/yaml_indent.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::dag {
namespace {

using testing_util::Errors;

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(LoaderPositionsTest, TemplateInLiteralBlockScalar) {
  EXPECT_THAT(Errors(R"(dag: x
tasks:
  - id: a
    type: shell
    with:
      command: |
        echo start
        echo {{ ds }} and {{ dss }}
          indented {{ ds_nodashh }}
)"),
              ElementsAre("t.yaml:8:27: unknown template variable 'dss' (did you mean 'ds'?)"));
  // The second of two identical templates, and the one after a more-indented line.
  EXPECT_THAT(Errors(R"(dag: x
tasks:
  - id: a
    type: shell
    with:
      command: |-
        echo {{ ds }}
            more {{ ds }}
        echo {{ ds_nodashh }}
)"),
              ElementsAre("t.yaml:9:14: unknown template variable 'ds_nodashh' (did you mean "
                          "'ds_nodash'?)"));
}

TEST(LoaderPositionsTest, TemplateInFoldedBlockScalarAndQuotedValues) {
  // `>` joins the lines with spaces: the offset in the value is not the one in the file.
  EXPECT_THAT(Errors(R"(dag: x
params:
  who: x
tasks:
  - id: a
    type: shell
    with:
      command: >
        echo one two three
        four five six
        and {{ params.whoo }}
)"),
              ElementsAre("t.yaml:11:13: unknown param 'whoo' in '{{ params.whoo }}' (did you "
                          "mean 'params.who'?)"));
  EXPECT_THAT(Errors(R"(dag: x
tasks:
  - id: a
    type: shell
    with:
      command: "echo {{ ds }} {{ nope }}"
      env:
        A: >-
          {{ ds }}
          {{ tz }}
)"),
              ElementsAre("t.yaml:6:31: unknown template variable 'nope'",
                          "t.yaml:10:11: unknown template variable 'tz' (did you mean 'ts'?)"));
}

TEST(LoaderPositionsTest, TabInIndentation) {
  EXPECT_THAT(Errors("dag: x\ntasks:\n  - id: a\n\ttype: noop\n"),
              ElementsAre("t.yaml:4:1: tabs are not allowed in YAML indentation (indent with "
                          "spaces)"));
  EXPECT_THAT(Errors("dag: x\ntasks:\n\t- id: a\n    type: noop\n"),
              ElementsAre("t.yaml:3:1: tabs are not allowed in YAML indentation (indent with "
                          "spaces)"));
  EXPECT_THAT(Errors("dag: x\ntasks:\n  - id: a\n    type: noop\n    with:\n  \t  x: 1\n"),
              ElementsAre("t.yaml:6:3: tabs are not allowed in YAML indentation (indent with "
                          "spaces)"));
}

TEST(LoaderPositionsTest, TabsInsideBlockScalarsAreText) {
  EXPECT_THAT(Errors("dag: x\ntasks:\n  - id: a\n    type: shell\n    with:\n      command: |\n"
                     "        printf 'a\\tb'\n        \tindented with a tab after spaces\n"),
              IsEmpty());
  EXPECT_FALSE(FindTabIndentation("a: |\n  x\n  \ty\nb: 1\n").has_value());
  auto tab = FindTabIndentation("a: |\n  x\nb:\n\tc: 1\n");
  ASSERT_TRUE(tab.has_value());
  EXPECT_EQ(tab->line, 4);
  EXPECT_EQ(tab->column, 1);
}

}  // namespace
}  // namespace de::dag
