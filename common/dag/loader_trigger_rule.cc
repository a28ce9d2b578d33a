// The DAG loader's `trigger_rule:` key of a task, or of the `defaults:` block (every task's rule
// unless it sets its own): one of the rule names (common/dag/trigger_rule.h), a misspelling
// answered with the nearest name. A rule set on a task without `needs` is allowed (it has nothing
// to wait for, so it runs as any root task) with a warning; one inherited from `defaults:` is not
// warned about (it is meant for the tasks that have needs).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dag/loader_internal.h"
#include "common/dag/suggest.h"
#include "common/dag/trigger_rule.h"

namespace de::dag::loader_internal {

std::optional<TriggerRule> Loader::ReadTriggerRuleValue(const YAML::Node& n) {
  const auto& names = TriggerRuleNames();
  if (!n.IsScalar()) {
    Error(n, absl::StrCat("trigger_rule must be one of ", absl::StrJoin(names, ", ")));
    return std::nullopt;
  }
  std::optional<TriggerRule> rule = ParseTriggerRule(n.Scalar());
  if (!rule) {
    Error(n, absl::StrCat("unknown trigger_rule '", n.Scalar(), "'", DidYouMean(n.Scalar(), names),
                          "; known: ", absl::StrJoin(names, ", ")));
  }
  return rule;
}

void Loader::ReadTriggerRule(const YAML::Node& t, std::optional<TriggerRule> inherited,
                             TaskSpec* spec) {
  spec->trigger_rule = inherited.value_or(TriggerRule::kAllSuccess);
  YAML::Node n = t["trigger_rule"];
  if (!n || n.IsNull()) return;
  std::optional<TriggerRule> rule = ReadTriggerRuleValue(n);
  if (!rule) return;
  spec->trigger_rule = *rule;
  YAML::Node needs = t["needs"];
  const bool no_needs = !needs || needs.IsNull() || (needs.IsSequence() && needs.size() == 0);
  if (*rule != TriggerRule::kAllSuccess && no_needs) {
    Warning(n, absl::StrCat("task '", spec->id, "' has trigger_rule ", Name(*rule),
                            " but no needs: it runs as soon as its run starts"));
  }
}

}  // namespace de::dag::loader_internal
