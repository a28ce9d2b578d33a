#include "common/dag/trigger_rule.h"

#include <array>

namespace de::dag {
namespace {

// In the order of the TriggerRule enumerators.
constexpr std::array<const char*, 6> kNames = {"all_success", "all_done",   "all_failed",
                                               "one_success", "one_failed", "none_failed"};

}  // namespace

const char* Name(TriggerRule rule) { return kNames[static_cast<int>(rule)]; }

std::optional<TriggerRule> ParseTriggerRule(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i]) return static_cast<TriggerRule>(i);
  }
  return std::nullopt;
}

const std::vector<std::string>& TriggerRuleNames() {
  static const std::vector<std::string> kAll(kNames.begin(), kNames.end());
  return kAll;
}

}  // namespace de::dag
