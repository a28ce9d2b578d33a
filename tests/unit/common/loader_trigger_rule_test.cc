// The loader's `trigger_rule:` key: the six rule names, the default, and clear errors with
// file:line:col and a "did you mean" for anything else.
#include <string>
#include <vector>

#include "common/dag/loader.h"
#include "tests/unit/common/loader_test_util.h"
#include "common/dag/trigger_rule.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::dag {
namespace {

using testing_util::Errors;

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Each task's rule name, in the DAG's order.
std::vector<std::string> RulesOf(const DagSpec& dag) {
  std::vector<std::string> rules;
  for (const auto& t : dag.tasks) rules.push_back(Name(t.trigger_rule));
  return rules;
}

TEST(LoaderTriggerRuleTest, EveryRuleNameLoadsAndTheDefaultIsAllSuccess) {
  LoadResult r = LoadDag(R"(
dag: rules
tasks:
  - { id: a, type: noop }
  - { id: b, type: noop, needs: [a] }
  - { id: c1, type: noop, needs: [a], trigger_rule: all_success }
  - { id: c2, type: noop, needs: [a], trigger_rule: all_done }
  - { id: c3, type: noop, needs: [a], trigger_rule: all_failed }
  - { id: c4, type: noop, needs: [a], trigger_rule: one_success }
  - { id: c5, type: noop, needs: [a], trigger_rule: one_failed }
  - { id: c6, type: noop, needs: a, trigger_rule: none_failed }
)",
                         "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  EXPECT_THAT(r.warnings, IsEmpty());
  EXPECT_THAT(RulesOf(*r.dag),
              ElementsAre("all_success", "all_success", "all_success", "all_done", "all_failed",
                          "one_success", "one_failed", "none_failed"));
}

TEST(LoaderTriggerRuleTest, AMisspelledRuleNamesTheNearestOneAndWhere) {
  EXPECT_THAT(Errors(R"(dag: rules
tasks:
  - id: a
    type: noop
  - id: cleanup
    type: noop
    needs: [a]
    trigger_rule: all_don
  - { id: notify, type: noop, needs: [a], trigger_rule: onefailed }
  - { id: x, type: noop, needs: [a], trigger_rule: always }
)"),
              ElementsAre("t.yaml:8:19: unknown trigger_rule 'all_don' (did you mean 'all_done'?); "
                          "known: all_success, all_done, all_failed, one_success, one_failed, "
                          "none_failed",
                          "t.yaml:9:57: unknown trigger_rule 'onefailed' (did you mean "
                          "'one_failed'?); known: all_success, all_done, all_failed, "
                          "one_success, one_failed, none_failed",
                          "t.yaml:10:52: unknown trigger_rule 'always'; known: all_success, "
                          "all_done, all_failed, one_success, one_failed, none_failed"));
}

TEST(LoaderTriggerRuleTest, ARuleMustBeOneName) {
  EXPECT_THAT(Errors(R"(dag: rules
tasks:
  - { id: a, type: noop }
  - { id: b, type: noop, needs: [a], trigger_rule: [all_done, one_failed] }
)"),
              ElementsAre("t.yaml:4:52: trigger_rule must be one of all_success, all_done, "
                          "all_failed, one_success, one_failed, none_failed"));
  // A misspelled key is caught too.
  EXPECT_THAT(Errors(R"(dag: rules
tasks:
  - { id: a, type: noop }
  - { id: b, type: noop, needs: [a], triger_rule: all_done }
)"),
              ElementsAre("t.yaml:4:38: unknown task key 'triger_rule' (did you mean "
                          "'trigger_rule'?)"));
}

TEST(LoaderTriggerRuleTest, ARuleOnATaskWithoutNeedsIsAWarning) {
  LoadResult r = LoadDag(R"(dag: rules
tasks:
  - { id: a, type: noop, trigger_rule: all_done }
  - { id: b, type: noop, trigger_rule: all_success }
)",
                         "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].ToString(),
            "t.yaml:3:40: task 'a' has trigger_rule all_done but no needs: it runs as soon as "
            "its run starts");
}

TEST(LoaderTriggerRuleTest, DefaultsSetEveryTasksRuleATaskOverridesIt) {
  LoadResult r = LoadDag(R"(dag: rules
defaults: { retries: 1, trigger_rule: all_done }
tasks:
  - { id: a, type: noop }
  - { id: b, type: noop, needs: [a] }
  - { id: c, type: noop, needs: [a], trigger_rule: all_success }
  - { id: d, type: noop, needs: [b, c], trigger_rule: one_failed }
)",
                         "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  // Inherited by the root task a too, without a warning: it was not written on a.
  EXPECT_THAT(r.warnings, IsEmpty());
  EXPECT_THAT(RulesOf(*r.dag), ElementsAre("all_done", "all_done", "all_success", "one_failed"));
  EXPECT_EQ(r.dag->tasks[1].retry.retries, 1);
}

TEST(LoaderTriggerRuleTest, ABadRuleInDefaultsIsAnErrorWithWhere) {
  EXPECT_THAT(Errors(R"(dag: rules
defaults:
  trigger_rule: all_don
tasks:
  - { id: a, type: noop }
)"),
              ElementsAre("t.yaml:3:17: unknown trigger_rule 'all_don' (did you mean 'all_done'?); "
                          "known: all_success, all_done, all_failed, one_success, one_failed, "
                          "none_failed"));
  EXPECT_THAT(Errors(R"(dag: rules
defaults: { trigger_rule: [all_done] }
tasks:
  - { id: a, type: noop }
)"),
              ElementsAre("t.yaml:2:27: trigger_rule must be one of all_success, all_done, "
                          "all_failed, one_success, one_failed, none_failed"));
}

}  // namespace
}  // namespace de::dag
