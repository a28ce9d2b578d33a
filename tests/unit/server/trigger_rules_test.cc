// Trigger rules as a pure function over upstream states: a table of the cases the docs name, and
// every rule against every combination of up to three upstream states, checked against an
// independent statement of each rule ("can any way the unfinished upstreams end still satisfy
// it?"). Also which tasks a clear takes along.
#include "server/sched/trigger_rules.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/dag/loader.h"
#include "common/dag/trigger_rule.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::sched {
namespace {

using dag::TriggerRule;
using ::testing::ElementsAre;
using T = TiState;
using V = RuleVerdict;

constexpr TriggerRule kRules[] = {TriggerRule::kAllSuccess, TriggerRule::kAllDone,
                                  TriggerRule::kAllFailed,  TriggerRule::kOneSuccess,
                                  TriggerRule::kOneFailed,  TriggerRule::kNoneFailed};
constexpr TiState kTiStates[] = {T::kScheduled,      T::kQueued,  T::kRunning,
                                 T::kSuccess,        T::kFailed,  T::kUpForRetry,
                                 T::kUpstreamFailed, T::kSkipped, T::kCancelled};

V Eval(TriggerRule rule, std::vector<TiState> up) { return EvaluateTriggerRule(rule, up); }

TEST(TriggerRulesTest, NamesRoundTrip) {
  std::vector<std::string> names;
  for (TriggerRule r : kRules) {
    names.push_back(dag::Name(r));
    EXPECT_EQ(dag::ParseTriggerRule(dag::Name(r)), r);
  }
  EXPECT_EQ(names, dag::TriggerRuleNames());
  EXPECT_EQ(dag::ParseTriggerRule("ALL_DONE"), std::nullopt);
  EXPECT_EQ(dag::ParseTriggerRule(""), std::nullopt);
}

TEST(TriggerRulesTest, ATaskWithoutUpstreamsRunsWhateverItsRule) {
  for (TriggerRule r : kRules) EXPECT_EQ(Eval(r, {}), V::kRun) << dag::Name(r);
}

TEST(TriggerRulesTest, UnfinishedUpstreamsKeepEveryRuleWaitingUntilItIsDecided) {
  for (TiState pending : {T::kScheduled, T::kQueued, T::kRunning, T::kUpForRetry}) {
    for (TriggerRule r : kRules) {
      EXPECT_EQ(Eval(r, {pending}), V::kWait) << dag::Name(r) << " " << Name(pending);
      EXPECT_EQ(Eval(r, {pending, pending}), V::kWait) << dag::Name(r) << " " << Name(pending);
    }
  }
}

TEST(TriggerRulesTest, TheDocumentedCases) {
  using R = TriggerRule;
  // all_success: every upstream succeeded; one failure decides at once.
  EXPECT_EQ(Eval(R::kAllSuccess, {T::kSuccess, T::kSuccess}), V::kRun);
  EXPECT_EQ(Eval(R::kAllSuccess, {T::kSuccess, T::kRunning}), V::kWait);
  EXPECT_EQ(Eval(R::kAllSuccess, {T::kFailed, T::kRunning}), V::kUpstreamFailed);
  EXPECT_EQ(Eval(R::kAllSuccess, {T::kUpstreamFailed, T::kSuccess}), V::kUpstreamFailed);
  EXPECT_EQ(Eval(R::kAllSuccess, {T::kCancelled, T::kSuccess}), V::kUpstreamFailed);
  EXPECT_EQ(Eval(R::kAllSuccess, {T::kSkipped, T::kSuccess}), V::kSkip);
  EXPECT_EQ(Eval(R::kAllSuccess, {T::kUpForRetry, T::kSuccess}), V::kWait) << "a retry may win";
  // all_done: whatever happened, once everything finished.
  EXPECT_EQ(Eval(R::kAllDone, {T::kFailed, T::kSuccess, T::kSkipped, T::kUpstreamFailed}), V::kRun);
  EXPECT_EQ(Eval(R::kAllDone, {T::kFailed, T::kUpForRetry}), V::kWait);
  // all_failed: skipped as soon as one did not fail.
  EXPECT_EQ(Eval(R::kAllFailed, {T::kFailed, T::kUpstreamFailed}), V::kRun);
  EXPECT_EQ(Eval(R::kAllFailed, {T::kFailed, T::kRunning}), V::kWait);
  EXPECT_EQ(Eval(R::kAllFailed, {T::kSuccess, T::kRunning}), V::kSkip);
  EXPECT_EQ(Eval(R::kAllFailed, {T::kSkipped, T::kFailed}), V::kSkip);
  // one_success: runs at the first success, without waiting for the others.
  EXPECT_EQ(Eval(R::kOneSuccess, {T::kSuccess, T::kRunning}), V::kRun);
  EXPECT_EQ(Eval(R::kOneSuccess, {T::kFailed, T::kRunning}), V::kWait);
  EXPECT_EQ(Eval(R::kOneSuccess, {T::kFailed, T::kSkipped}), V::kUpstreamFailed);
  EXPECT_EQ(Eval(R::kOneSuccess, {T::kSkipped, T::kSkipped}), V::kSkip);
  // one_failed: runs at the first failure; skipped once all finished without one.
  EXPECT_EQ(Eval(R::kOneFailed, {T::kFailed, T::kRunning}), V::kRun);
  EXPECT_EQ(Eval(R::kOneFailed, {T::kUpstreamFailed, T::kQueued}), V::kRun);
  EXPECT_EQ(Eval(R::kOneFailed, {T::kSuccess, T::kUpForRetry}), V::kWait);
  EXPECT_EQ(Eval(R::kOneFailed, {T::kSuccess, T::kSkipped}), V::kSkip);
  // none_failed: succeeded or skipped; a failure decides at once.
  EXPECT_EQ(Eval(R::kNoneFailed, {T::kSuccess, T::kSkipped}), V::kRun);
  EXPECT_EQ(Eval(R::kNoneFailed, {T::kSkipped, T::kSkipped}), V::kRun);
  EXPECT_EQ(Eval(R::kNoneFailed, {T::kSkipped, T::kRunning}), V::kWait);
  EXPECT_EQ(Eval(R::kNoneFailed, {T::kFailed, T::kRunning}), V::kUpstreamFailed);
}

// ---- Every rule x every combination, against an independent statement of the rules ----

enum class Outcome { kSuccess, kSkipped, kFailed };

std::optional<Outcome> OutcomeOf(TiState s) {
  switch (s) {
    case T::kSuccess:
      return Outcome::kSuccess;
    case T::kSkipped:
      return Outcome::kSkipped;
    case T::kFailed:
    case T::kUpstreamFailed:
    case T::kCancelled:
      return Outcome::kFailed;
    default:
      return std::nullopt;  // not finished
  }
}

// Whether `rule` holds for these finished outcomes (the sentences of the docs).
bool Holds(TriggerRule rule, const std::vector<Outcome>& o) {
  auto all = [&](Outcome x) {
    return std::all_of(o.begin(), o.end(), [&](auto y) { return y == x; });
  };
  auto any = [&](Outcome x) {
    return std::any_of(o.begin(), o.end(), [&](auto y) { return y == x; });
  };
  switch (rule) {
    case TriggerRule::kAllSuccess:
      return all(Outcome::kSuccess);
    case TriggerRule::kAllDone:
      return true;
    case TriggerRule::kAllFailed:
      return all(Outcome::kFailed);
    case TriggerRule::kOneSuccess:
      return any(Outcome::kSuccess);
    case TriggerRule::kOneFailed:
      return any(Outcome::kFailed);
    case TriggerRule::kNoneFailed:
      return !any(Outcome::kFailed);
  }
  return false;
}

// The expected verdict: run when the rule holds for every way the unfinished upstreams could
// still end (it is already decided), wait while some ways satisfy it and others do not, and when
// no way can: skipped for the rules that wait for a failure or when nothing failed, else
// upstream_failed.
V Expected(TriggerRule rule, const std::vector<TiState>& up) {
  if (up.empty()) return V::kRun;  // a root task: nothing to wait for
  std::vector<std::vector<Outcome>> ends = {{}};
  for (TiState s : up) {
    std::vector<std::vector<Outcome>> next;
    for (const auto& e : ends) {
      std::optional<Outcome> fixed = OutcomeOf(s);
      for (Outcome o : {Outcome::kSuccess, Outcome::kSkipped, Outcome::kFailed}) {
        if (fixed && o != *fixed) continue;
        next.push_back(e);
        next.back().push_back(o);
      }
    }
    ends = std::move(next);
  }
  int holds = 0;
  for (const auto& e : ends) holds += Holds(rule, e);
  if (holds == static_cast<int>(ends.size())) {
    // Decided only once nothing is pending for the rules that look at all upstreams.
    const bool pending = std::any_of(up.begin(), up.end(), [](TiState s) { return !OutcomeOf(s); });
    const bool needs_all = rule == TriggerRule::kAllSuccess || rule == TriggerRule::kAllDone ||
                           rule == TriggerRule::kAllFailed || rule == TriggerRule::kNoneFailed;
    return pending && needs_all ? V::kWait : V::kRun;
  }
  if (holds > 0) return V::kWait;
  const bool any_failed =
      std::any_of(up.begin(), up.end(), [](TiState s) { return OutcomeOf(s) == Outcome::kFailed; });
  if (rule == TriggerRule::kAllFailed || rule == TriggerRule::kOneFailed || !any_failed) {
    return V::kSkip;
  }
  return V::kUpstreamFailed;
}

TEST(TriggerRulesTest, EveryRuleAgainstEveryCombinationOfUpToThreeUpstreams) {
  std::vector<std::vector<TiState>> combos = {{}};
  for (int n = 1; n <= 3; ++n) {
    std::function<void(std::vector<TiState>, size_t)> gen = [&](std::vector<TiState> c,
                                                                size_t from) {
      if (static_cast<int>(c.size()) == n) {
        combos.push_back(c);
        return;
      }
      for (size_t i = from; i < std::size(kTiStates); ++i) {
        c.push_back(kTiStates[i]);
        gen(c, i);
        c.pop_back();
      }
    };
    gen({}, 0);
  }
  ASSERT_EQ(combos.size(), 1u + 9 + 45 + 165);
  for (TriggerRule rule : kRules) {
    for (const auto& up : combos) {
      std::vector<std::string> names;
      for (TiState s : up) names.push_back(Name(s));
      // The order of the upstreams never matters.
      std::vector<TiState> reversed(up.rbegin(), up.rend());
      EXPECT_EQ(std::string(Name(Eval(rule, up))), Name(Expected(rule, up)))
          << dag::Name(rule) << " over [" << absl::StrJoin(names, ", ") << "]";
      EXPECT_EQ(Eval(rule, up), Eval(rule, reversed));
    }
  }
}

// ---- Clear ----

dag::DagSpec Load(const std::string& yaml) {
  dag::LoadResult r = dag::LoadDag(yaml, "t.yaml");
  for (const auto& e : r.errors) ADD_FAILURE() << e.ToString();
  return r.dag ? *r.dag : dag::DagSpec{};
}

TEST(TriggerRulesTest, ClearingATaskTakesAlongTheTasksItsOutcomeDecided) {
  dag::DagSpec spec = Load(R"(
dag: d
tasks:
  - { id: extract, type: noop }
  - { id: load, type: noop, needs: [extract] }
  - { id: cleanup, type: noop, needs: [load], trigger_rule: all_done }
  - { id: report, type: noop, needs: [cleanup] }
  - { id: alert, type: noop, needs: [extract], trigger_rule: one_failed }
  - { id: side, type: noop }
  - { id: after_side, type: noop, needs: [side], trigger_rule: all_done }
)");
  std::map<std::string, TiState> states = {{"extract", T::kFailed},    {"load", T::kUpstreamFailed},
                                           {"cleanup", T::kSuccess},   {"report", T::kSuccess},
                                           {"alert", T::kSuccess},     {"side", T::kSuccess},
                                           {"after_side", T::kSuccess}};
  // load was decided by extract, cleanup ran after it under all_done, alert under one_failed;
  // report succeeded under all_success after cleanup and stays; side's branch is not involved.
  EXPECT_THAT(WithRuleDependants(spec, states, {"extract"}),
              ElementsAre("alert", "cleanup", "extract", "load"));
  // An unfinished dependant is decided again anyway: it stays.
  states["alert"] = T::kRunning;
  EXPECT_THAT(WithRuleDependants(spec, states, {"extract"}),
              ElementsAre("cleanup", "extract", "load"));
  EXPECT_THAT(WithRuleDependants(spec, states, {"report"}), ElementsAre("report"));
}

}  // namespace
}  // namespace de::sched
