// The DAG loader's `trigger_rule:` key of a task: one of the rule names (common/dag/
// trigger_rule.h), a misspelling answered with the nearest name. A rule on a task without
// `needs` is allowed (it has nothing to wait for, so it runs as any root task) with a warning.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dag/loader_internal.h"
#include "common/dag/suggest.h"
#include "common/dag/trigger_rule.h"

namespace de::dag::loader_internal {

void Loader::ReadTriggerRule(const YAML::Node& t, TaskSpec* spec) {
  YAML::Node n = t["trigger_rule"];
  if (!n || n.IsNull()) return;
  const auto& names = TriggerRuleNames();
  if (!n.IsScalar()) {
    Error(n, absl::StrCat("trigger_rule must be one of ", absl::StrJoin(names, ", ")));
    return;
  }
  std::optional<TriggerRule> rule = ParseTriggerRule(n.Scalar());
  if (!rule) {
    Error(n, absl::StrCat("unknown trigger_rule '", n.Scalar(), "'", DidYouMean(n.Scalar(), names),
                          "; known: ", absl::StrJoin(names, ", ")));
    return;
  }
  spec->trigger_rule = *rule;
  YAML::Node needs = t["needs"];
  const bool no_needs = !needs || needs.IsNull() || (needs.IsSequence() && needs.size() == 0);
  if (*rule != TriggerRule::kAllSuccess && no_needs) {
    Warning(n, absl::StrCat("task '", spec->id, "' has trigger_rule ", Name(*rule),
                            " but no needs: it runs as soon as its run starts"));
  }
}

}  // namespace de::dag::loader_internal
