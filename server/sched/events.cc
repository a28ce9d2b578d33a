#include "server/sched/events.h"

namespace de::sched {

const char* EventKindName(EventKind k) {
  switch (k) {
    case EventKind::kRunState:
      return "run_state";
    case EventKind::kTaskState:
      return "task_state";
    case EventKind::kRetry:
      return "retry";
    case EventKind::kLeaseLost:
      return "lease_lost";
    case EventKind::kDeadlineMiss:
      return "deadline_miss";
    case EventKind::kWaitTimeout:
      return "wait_timeout";
  }
  return "unknown";
}

}  // namespace de::sched
