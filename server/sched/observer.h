// What the scheduler tells an observer (metrics) besides events: timings of its own work and
// periodic samples of its in-memory state. The scheduler calls it under its lock; implementations
// must be quick (no I/O, no blocking) and must not call back into the Scheduler.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/time/time.h"

namespace de::sched {

// One sample of the scheduler's state (all counts are current values, not totals).
struct StateSample {
  int64_t at_ms = 0;
  // (dag, state) -> runs, for states waiting queued running; every known DAG appears.
  std::map<std::pair<std::string, std::string>, int> runs;
  // (pool, state) -> task instances, for states queued running.
  std::map<std::pair<std::string, std::string>, int> pool_tasks;
  std::map<std::string, int> pool_slots_used;    // running attempts per pool
  std::map<std::string, int> pool_slots_open;    // capped pools only: cap - used (>= 0)
  std::map<std::string, int> pool_starving;      // queued tasks no slot can take now
  std::map<std::string, int> worker_free_slots;  // connected workers only
  int workers_connected = 0;
  std::map<std::string, int64_t> dag_next_run_ms;  // when the next scheduled run is due (0: none)
};

class SchedulerObserver {
 public:
  virtual ~SchedulerObserver() = default;
  virtual void OnCommit(absl::Duration latency) {}
  // One scheduling step (a timer pass, a dispatch, a worker report) under the lock.
  virtual void OnLoop(absl::Duration took) {}
  virtual void OnSample(const StateSample& sample) {}
  // The timer thread is alive (about once a second).
  virtual void OnHeartbeat(int64_t at_ms) {}
};

}  // namespace de::sched
