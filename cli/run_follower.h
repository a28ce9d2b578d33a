// Prints a run as it goes, for `dectl dag test`: each task's state changes and every line of each
// attempt's log as it arrives, prefixed by the task id ("[convert] ...", "[flaky try 2] ...").
// Reads through sched::Scheduler directly (an in-process scheduler). Not thread-safe.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "de/v1/types.pb.h"
#include "server/sched/scheduler.h"

namespace de::cli {

class RunFollower {
 public:
  RunFollower(sched::Scheduler* scheduler, std::string run_id, std::ostream& out)
      : scheduler_(scheduler), run_id_(std::move(run_id)), out_(out) {}

  // One pass: reads the run, prints the log lines that arrived and the state changes since the
  // last pass. Returns the run as read (before its logs were drained).
  absl::StatusOr<v1::Run> Poll();

 private:
  struct LogCursor {
    int64_t offset = 0;
    std::string partial;   // the last line, until its newline arrives
    bool done = false;     // the attempt ended and its log was read to the end
  };
  void DrainLog(const std::string& task, int try_number, bool ended);
  void PrintStateChanges(const v1::Run& run);

  sched::Scheduler* scheduler_;
  const std::string run_id_;
  std::ostream& out_;
  std::map<std::pair<std::string, int>, LogCursor> logs_;                   // (task, try)
  std::map<std::string, std::pair<std::string, int>> states_;               // task -> (state, try)
  std::string run_state_;
  std::string waiting_on_;
};

}  // namespace de::cli
