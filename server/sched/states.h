// Run and task-instance states, their named groups, and the transition table every state change
// is checked against. Strings appear only at the store and proto edges (Name / Parse*).
// Pure functions over constants: thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace de::sched {

enum class RunState { kWaiting, kQueued, kRunning, kSuccess, kFailed, kCancelled };

enum class TiState {
  kScheduled,
  kQueued,
  kRunning,
  kSuccess,
  kFailed,
  kUpForRetry,
  kUpstreamFailed,
  kSkipped,
  kCancelled,
};

const char* Name(RunState s);  // "waiting" "queued" ...
const char* Name(TiState s);   // "scheduled" "queued" "up_for_retry" ...
std::optional<RunState> ParseRunState(std::string_view s);
std::optional<TiState> ParseTiState(std::string_view s);

// Named groups (as Airflow's utils/state.py).
// Runs: not finished (waiting queued running) / finished (success failed cancelled).
bool IsActive(RunState s);
bool IsFinished(RunState s);
// Tasks: finished (success failed upstream_failed skipped cancelled); a downstream task may start
// after an upstream in a "satisfying" state (success skipped); "failed-like" states make a run
// failed (failed upstream_failed).
bool IsFinished(TiState s);
bool IsSatisfying(TiState s);
bool IsFailedLike(TiState s);

// The transition tables. A run or task moves only along these edges; anything else is a bug the
// one transition function refuses (and the store is left untouched).
bool IsLegal(RunState from, RunState to);
bool IsLegal(TiState from, TiState to);

}  // namespace de::sched
