// The names of a task's `trigger_rule:` values (dag::TriggerRule, common/dag/dag.h), as the DAG
// YAML, the API and dectl spell them. What each rule means for a task is decided in
// server/sched/trigger_rules.h. Pure functions over constants: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dag/dag.h"

namespace de::dag {

// "all_success" "all_done" "all_failed" "one_success" "one_failed" "none_failed".
const char* Name(TriggerRule rule);
std::optional<TriggerRule> ParseTriggerRule(std::string_view name);
// Every name, in the order above (the default first): for messages and "did you mean".
const std::vector<std::string>& TriggerRuleNames();

}  // namespace de::dag
