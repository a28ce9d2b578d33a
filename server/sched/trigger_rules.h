// What a task's trigger_rule (dag::TriggerRule) says once its upstream tasks have reached some
// states: run it, keep waiting, or end it without running. Airflow's semantics:
//   all_success  every upstream succeeded            (a failed one -> upstream_failed at once,
//                                                      else a skipped one -> skipped)
//   all_done     every upstream finished, whatever the outcome
//   all_failed   every upstream failed               (a succeeded/skipped one -> skipped at once)
//   one_success  one upstream succeeded, at once     (all finished, none succeeded ->
//                                                      upstream_failed, or skipped if all skipped)
//   one_failed   one upstream failed, at once        (all finished, none failed -> skipped)
//   none_failed  every upstream succeeded or skipped (a failed one -> upstream_failed at once)
// "Failed" upstream states are failed, upstream_failed and cancelled; up_for_retry is not
// finished (a retry may still succeed), nor are scheduled, queued and running. A task without
// upstream tasks runs whatever its rule. The rules that wait for a failure (all_failed,
// one_failed) end in skipped when none comes, so they never fail a run that went well; the
// others end in upstream_failed, which fails the run (MaybeFinishRun): the run did have a
// failure upstream.
// Pure functions: thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/dag/dag.h"
#include "server/sched/states.h"

namespace de::sched {

enum class RuleVerdict { kWait, kRun, kUpstreamFailed, kSkip };
const char* Name(RuleVerdict v);  // "wait" "run" "upstream_failed" "skip"

// A task's upstream tasks by outcome.
struct UpstreamCounts {
  int success = 0;
  int skipped = 0;
  int failed = 0;   // failed, upstream_failed, cancelled
  int pending = 0;  // not finished: scheduled, queued, running, up_for_retry
  void Add(TiState s);
  int total() const { return success + skipped + failed + pending; }
};

RuleVerdict EvaluateTriggerRule(dag::TriggerRule rule, const UpstreamCounts& up);
RuleVerdict EvaluateTriggerRule(dag::TriggerRule rule, const std::vector<TiState>& upstream);

// Clear: the tasks that clearing `chosen` (task ids) clears along with them, because their
// state was decided by what the cleared tasks did: every finished task downstream of a cleared
// one that ended upstream_failed or skipped, or whose trigger_rule is not all_success (a cleanup
// that ran after a failure), and so on downstream of those. Unfinished ones are left alone (they
// are decided again when their upstream tasks finish). Returns `chosen` with them added. `states`:
// the run's task states by id (tasks missing from it are left alone).
std::set<std::string> WithRuleDependants(const dag::DagSpec& spec,
                                         const std::map<std::string, TiState>& states,
                                         std::set<std::string> chosen);

}  // namespace de::sched
