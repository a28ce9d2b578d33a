// What `dectl trigger --wait` prints while it follows a run. A run of up to kPerTaskLinesUpTo
// tasks gets a line per task state change; a larger one a progress line instead (rewritten in
// place on a terminal, every Io::progress_interval otherwise), with each failure still on a line
// of its own. At the end: the run's outcome and, when tasks failed, the `dectl logs` command for
// each. Not thread-safe (one per followed run).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "cli/commands.h"
#include "de/v1/types.pb.h"

namespace de::cli {

// Whether a run in `state` has ended: success, failed, cancelled (sched::IsFinished).
bool IsTerminalRunState(const std::string& state);
// Whether a task instance in `state` is done for this run: success, failed, upstream_failed,
// skipped, cancelled (sched::IsFinished). `up_for_retry` is not: it will run again.
bool IsDoneTaskState(const std::string& state);

class RunPrinter {
 public:
  static constexpr int kPerTaskLinesUpTo = 100;
  // Failed tasks whose `dectl logs` command the end prints (then a pointer to `runs show`).
  static constexpr int kLogCommands = 5;

  explicit RunPrinter(Context& ctx) : ctx_(ctx) {}

  // One poll's answer (table output only).
  void Update(const de::v1::Run& run, int64_t now_ms);
  // The run has ended (table output only).
  void Finish(const de::v1::Run& run, int64_t now_ms);

 private:
  void PrintTaskLine(const de::v1::TaskInstance& t, int64_t now_ms);
  void PrintProgress(const de::v1::Run& run, int64_t now_ms);
  // Ends a progress line left open on a terminal.
  void EndProgressLine();

  Context& ctx_;
  std::map<std::string, std::pair<std::string, int>> seen_;  // task -> (state, try)
  std::map<std::string, std::string> seen_mapped_;   // for_each task -> its counts line
  std::string run_state_;
  std::string waiting_on_;
  std::string last_progress_;
  absl::Time last_progress_at_ = absl::InfinitePast();
  bool progress_open_ = false;  // a progress line without its newline yet (terminal)
};

}  // namespace de::cli
