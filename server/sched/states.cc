#include "server/sched/states.h"

#include <array>

namespace de::sched {
namespace {

constexpr std::array<const char*, 6> kRunNames = {"waiting", "queued", "running",
                                                  "success", "failed", "cancelled"};
constexpr std::array<const char*, 9> kTiNames = {"scheduled",       "queued",  "running",
                                                 "success",         "failed",  "up_for_retry",
                                                 "upstream_failed", "skipped", "cancelled"};

}  // namespace

const char* Name(RunState s) { return kRunNames[static_cast<int>(s)]; }
const char* Name(TiState s) { return kTiNames[static_cast<int>(s)]; }

std::optional<RunState> ParseRunState(std::string_view s) {
  for (size_t i = 0; i < kRunNames.size(); ++i) {
    if (s == kRunNames[i]) return static_cast<RunState>(i);
  }
  return std::nullopt;
}

std::optional<TiState> ParseTiState(std::string_view s) {
  for (size_t i = 0; i < kTiNames.size(); ++i) {
    if (s == kTiNames[i]) return static_cast<TiState>(i);
  }
  return std::nullopt;
}

bool IsActive(RunState s) {
  return s == RunState::kWaiting || s == RunState::kQueued || s == RunState::kRunning;
}
bool IsFinished(RunState s) { return !IsActive(s); }

bool IsFinished(TiState s) {
  switch (s) {
    case TiState::kSuccess:
    case TiState::kFailed:
    case TiState::kUpstreamFailed:
    case TiState::kSkipped:
    case TiState::kCancelled:
      return true;
    default:
      return false;
  }
}
bool IsSatisfying(TiState s) { return s == TiState::kSuccess || s == TiState::kSkipped; }
bool IsFailedLike(TiState s) { return s == TiState::kFailed || s == TiState::kUpstreamFailed; }

bool IsLegal(RunState from, RunState to) {
  using R = RunState;
  switch (from) {
    case R::kWaiting:  // waits satisfied; gave up (wait_timeout); cancelled
      return to == R::kQueued || to == R::kFailed || to == R::kCancelled;
    case R::kQueued:  // started; cancelled; finished without starting (every task cancelled)
      return to == R::kRunning || to == R::kCancelled || to == R::kFailed || to == R::kSuccess;
    case R::kRunning:
      return to == R::kSuccess || to == R::kFailed || to == R::kCancelled;
    case R::kSuccess:  // a finished run comes back only by being cleared
    case R::kFailed:
    case R::kCancelled:
      return to == R::kQueued;
  }
  return false;
}

bool IsLegal(TiState from, TiState to) {
  using T = TiState;
  switch (from) {
    case T::kScheduled:
      return to == T::kQueued || to == T::kUpstreamFailed || to == T::kSkipped ||
             to == T::kCancelled;
    case T::kQueued:  // dispatched; cancelled; failed before reaching a worker (bad template)
      return to == T::kRunning || to == T::kCancelled || to == T::kFailed ||
             to == T::kUpstreamFailed;
    case T::kRunning:  // queued again = a lost attempt retried at once; skipped = a for_each
                       // task whose items (listed by a worker) are none
      return to == T::kSuccess || to == T::kFailed || to == T::kUpForRetry || to == T::kCancelled ||
             to == T::kQueued || to == T::kSkipped;
    case T::kUpForRetry:
      return to == T::kQueued || to == T::kCancelled || to == T::kScheduled ||
             to == T::kUpstreamFailed;
    case T::kSuccess:  // finished tasks come back only by being cleared
    case T::kFailed:
    case T::kUpstreamFailed:
    case T::kSkipped:
    case T::kCancelled:
      return to == T::kScheduled;
  }
  return false;
}

}  // namespace de::sched
