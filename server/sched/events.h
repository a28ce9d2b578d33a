// Scheduler events: what every state transition emits, and the interface of those who consume
// them (metrics, alerts). The scheduler calls listeners under its lock:
//   - OnEvent inside the open store transaction of the transition (a listener that persists
//     something, such as the alert outbox, writes through `db` and is committed or rolled back
//     with the transition itself);
//   - OnCommitted after that transaction committed (in-memory consumers such as metrics), never
//     for events whose transaction rolled back.
// Listeners must not block (no network, no sleeping) and must not call back into the Scheduler.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/store/sqlite.h"

namespace de::sched {

enum class EventKind {
  kRunState,      // a run changed state (to_state: waiting queued running success failed cancelled)
  kTaskState,     // a task instance changed state (scheduled queued running success failed ...)
  kRetry,         // an attempt failed and the task will be retried (to_state up_for_retry)
  kLeaseLost,     // an attempt's lease lapsed (its worker died or went silent)
  kDeadlineMiss,  // a run (or task) passed its deadline before finishing
  kWaitTimeout,   // a waiting run gave up on its wait_for
};

const char* EventKindName(EventKind k);  // "run_state" "task_state" "retry" "lease_lost" ...

struct Event {
  EventKind kind = EventKind::kRunState;
  int64_t at_ms = 0;           // when it happened (the scheduler's clock)
  std::string dag;
  int dag_version = 0;
  std::string run_id;
  std::string run_type;        // manual scheduled backfill
  int64_t logical_date_ms = 0;
  int64_t interval_start_ms = 0;
  int64_t interval_end_ms = 0;
  std::string task;            // empty for run events
  int try_number = 0;
  int64_t attempt_id = 0;
  std::string worker;
  std::string pool;
  std::string from_state;      // empty when created
  std::string to_state;
  std::string reason;          // error / reason text, if any
  int64_t deadline_ms = 0;     // for kDeadlineMiss
  // Timings the metrics want, when known (0 = unknown): ready->dispatched, run start delay, ...
  std::map<std::string, int64_t> timings_ms;
  std::map<std::string, int64_t> counters;   // a task's counters (rows_in, rows_out, ...)
};

class EventListener {
 public:
  virtual ~EventListener() = default;
  // Inside the transition's transaction. An error rolls the transition back.
  virtual absl::Status OnEvent(const Event& e, store::Db* db) { return absl::OkStatus(); }
  // After the transaction that carried `events` committed.
  virtual void OnCommitted(const std::vector<Event>& events) {}
};

}  // namespace de::sched
