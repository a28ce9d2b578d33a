#include "server/sched/trigger_rules.h"

namespace de::sched {

const char* Name(RuleVerdict v) {
  switch (v) {
    case RuleVerdict::kWait:
      return "wait";
    case RuleVerdict::kRun:
      return "run";
    case RuleVerdict::kUpstreamFailed:
      return "upstream_failed";
    case RuleVerdict::kSkip:
      return "skip";
  }
  return "?";
}

void UpstreamCounts::Add(TiState s) {
  switch (s) {
    case TiState::kSuccess:
      ++success;
      break;
    case TiState::kSkipped:
      ++skipped;
      break;
    case TiState::kFailed:
    case TiState::kUpstreamFailed:
    case TiState::kCancelled:
      ++failed;
      break;
    case TiState::kScheduled:
    case TiState::kQueued:
    case TiState::kRunning:
    case TiState::kUpForRetry:
      ++pending;
      break;
  }
}

RuleVerdict EvaluateTriggerRule(dag::TriggerRule rule, const UpstreamCounts& up) {
  using R = dag::TriggerRule;
  using V = RuleVerdict;
  if (up.total() == 0) return V::kRun;
  const bool all_done = up.pending == 0;
  switch (rule) {
    case R::kAllSuccess:
      if (up.failed > 0) return V::kUpstreamFailed;
      if (up.skipped > 0) return V::kSkip;
      return all_done ? V::kRun : V::kWait;
    case R::kAllDone:
      return all_done ? V::kRun : V::kWait;
    case R::kAllFailed:
      if (up.success > 0 || up.skipped > 0) return V::kSkip;
      return all_done ? V::kRun : V::kWait;
    case R::kOneSuccess:
      if (up.success > 0) return V::kRun;
      if (!all_done) return V::kWait;
      return up.failed > 0 ? V::kUpstreamFailed : V::kSkip;
    case R::kOneFailed:
      if (up.failed > 0) return V::kRun;
      return all_done ? V::kSkip : V::kWait;
    case R::kNoneFailed:
      if (up.failed > 0) return V::kUpstreamFailed;
      return all_done ? V::kRun : V::kWait;
  }
  return V::kWait;
}

RuleVerdict EvaluateTriggerRule(dag::TriggerRule rule, const std::vector<TiState>& upstream) {
  UpstreamCounts up;
  for (TiState s : upstream) up.Add(s);
  return EvaluateTriggerRule(rule, up);
}

std::set<std::string> WithRuleDependants(const dag::DagSpec& spec,
                                         const std::map<std::string, TiState>& states,
                                         std::set<std::string> chosen) {
  // spec.tasks is in a topological order: one pass sees every upstream before its dependants.
  for (const auto& t : spec.tasks) {
    if (chosen.count(t.id)) continue;
    auto st = states.find(t.id);
    if (st == states.end() || !IsFinished(st->second)) continue;  // not decided yet
    const bool decided_by_upstream = st->second == TiState::kUpstreamFailed ||
                                     st->second == TiState::kSkipped ||
                                     t.trigger_rule != dag::TriggerRule::kAllSuccess;
    if (!decided_by_upstream) continue;
    for (const auto& n : t.needs) {
      if (chosen.count(n)) {
        chosen.insert(t.id);
        break;
      }
    }
  }
  return chosen;
}

}  // namespace de::sched
