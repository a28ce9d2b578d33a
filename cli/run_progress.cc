#include "cli/run_progress.h"

#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/format.h"
#include "cli/runs_mapped.h"
#include "server/sched/states.h"

namespace de::cli {
namespace {

// When the task entered its current state, as well as the run tells.
int64_t StateSinceMs(const de::v1::TaskInstance& t, int64_t now_ms) {
  int64_t ms = 0;
  if (t.state() == "queued") ms = t.queued_at_ms();
  if (t.state() == "running") ms = t.started_at_ms();
  if (t.state() == "success" || t.state() == "failed" || t.state() == "up_for_retry" ||
      t.state() == "cancelled" || t.state() == "skipped" || t.state() == "upstream_failed") {
    ms = t.ended_at_ms();
  }
  return ms != 0 ? ms : now_ms;
}

// What a run waits on, without the age of data checks ("(checked 12s ago)" changes every
// second): --wait prints the lines again only when something else in them changed.
std::string WaitingOnKey(const de::v1::Run& run) {
  std::string key;
  for (const auto& line : run.waiting_on()) {
    std::string l = line;
    if (size_t at = l.find("checked "); at != std::string::npos) {
      size_t end = at + 8;
      while (end < l.size() && absl::ascii_isdigit(static_cast<unsigned char>(l[end]))) ++end;
      l.erase(at + 8, end - at - 8);
    }
    absl::StrAppend(&key, l, "\n");
  }
  return key;
}

}  // namespace

void RunPrinter::PrintTaskLine(const de::v1::TaskInstance& t, int64_t now_ms) {
  std::string line = absl::StrCat(FormatClock(StateSinceMs(t, now_ms)), " ", t.task_id(), " ",
                                  ColourState(t.state(), ctx_.colour()));
  if (t.try_number() > 0) absl::StrAppend(&line, " (try ", t.try_number(), ")");
  if (!t.error().empty() && (t.state() == "failed" || t.state() == "up_for_retry")) {
    absl::StrAppend(&line, ": ", Abbreviate(t.error(), 100));
  }
  EndProgressLine();
  ctx_.out() << line << "\n";
}

void RunPrinter::EndProgressLine() {
  if (!progress_open_) return;
  ctx_.out() << "\n";
  progress_open_ = false;
}

void RunPrinter::PrintProgress(const de::v1::Run& run, int64_t now_ms) {
  std::map<std::string, int> by_state;
  int done = 0;
  for (const auto& t : run.tasks()) {
    ++by_state[t.state()];
    done += IsDoneTaskState(t.state());
  }
  std::vector<std::string> counts;
  for (const char* s : {"running", "queued", "up_for_retry", "failed", "upstream_failed"}) {
    if (auto it = by_state.find(s); it != by_state.end()) {
      counts.push_back(absl::StrCat(it->second, " ", ColourState(s, ctx_.colour())));
    }
  }
  std::string line = absl::StrCat(ProgressBar(done, run.tasks_size()),
                                  counts.empty() ? "" : "  ", absl::StrJoin(counts, ", "));
  if (ctx_.io.out_is_tty) {
    if (line == last_progress_ && progress_open_) return;
    ctx_.out() << "\r" << FormatClock(now_ms) << " " << line << "\x1b[K";
    progress_open_ = true;
  } else {
    const absl::Time now = absl::FromUnixMillis(now_ms);
    if (line == last_progress_ || now - last_progress_at_ < ctx_.io.progress_interval) return;
    ctx_.out() << FormatClock(now_ms) << " " << line << "\n";
    last_progress_at_ = now;
  }
  last_progress_ = line;
}

namespace {
// The run's tasks that are not for_each instances (those are counted in their group's line).
int OwnTasks(const de::v1::Run& run) {
  int n = 0;
  for (const auto& t : run.tasks()) n += t.map_task().empty();
  return n;
}
}  // namespace

bool IsTerminalRunState(const std::string& state) {
  std::optional<sched::RunState> s = sched::ParseRunState(state);
  return s.has_value() && sched::IsFinished(*s);
}

bool IsDoneTaskState(const std::string& state) {
  std::optional<sched::TiState> s = sched::ParseTiState(state);
  return s.has_value() && sched::IsFinished(*s);
}

void RunPrinter::Update(const de::v1::Run& run, int64_t now_ms) {
  if (run.state() != run_state_ && !IsTerminalRunState(run.state())) {
    EndProgressLine();
    ctx_.out() << FormatClock(now_ms) << " run " << ColourState(run.state(), ctx_.colour())
               << (run.reason().empty() ? "" : absl::StrCat(" (", run.reason(), ")")) << "\n";
  }
  run_state_ = run.state();
  std::string now_waiting_on = WaitingOnKey(run);
  if (now_waiting_on != waiting_on_) {
    EndProgressLine();
    for (const auto& w : run.waiting_on()) ctx_.out() << "  waiting on " << w << "\n";
    waiting_on_ = now_waiting_on;
  }
  for (const auto& [task, counts] : MappedCounts(run)) {   // for_each: one line per group
    const std::string summary = MappedSummary(counts);
    if (seen_mapped_[task] == summary) continue;
    seen_mapped_[task] = summary;
    EndProgressLine();
    ctx_.out() << FormatClock(now_ms) << " " << task << " " << summary << "\n";
  }
  const bool per_task = OwnTasks(run) <= kPerTaskLinesUpTo;
  for (const auto& t : run.tasks()) {
    if (!t.map_task().empty() && t.state() != "failed") continue;   // in the group line
    auto key = std::make_pair(t.state(), t.try_number());
    auto it = seen_.find(t.task_id());
    if (it != seen_.end() && it->second == key) continue;
    seen_[t.task_id()] = key;
    if (per_task || t.state() == "failed" || t.state() == "up_for_retry") PrintTaskLine(t, now_ms);
  }
  if (!per_task) PrintProgress(run, now_ms);
  ctx_.out().flush();
}

void RunPrinter::Finish(const de::v1::Run& run, int64_t now_ms) {
  if (OwnTasks(run) > kPerTaskLinesUpTo) {
    last_progress_at_ = absl::InfinitePast();  // the last counts, whenever the one before was
    PrintProgress(run, now_ms);
  }
  EndProgressLine();
  auto& out = ctx_.out();
  out << FormatClock(run.ended_at_ms() != 0 ? run.ended_at_ms() : now_ms) << " run "
      << run.run_id() << " " << ColourState(run.state(), ctx_.colour());
  if (run.started_at_ms() != 0) {
    out << " in " << FormatElapsed(run.started_at_ms(), run.ended_at_ms(), now_ms);
  }
  if (!run.reason().empty()) out << " (" << run.reason() << ")";
  out << "\n";
  std::vector<std::string> failed;
  for (const auto& t : run.tasks()) {
    if (t.state() == "failed") failed.push_back(t.task_id());
  }
  for (size_t i = 0; i < failed.size() && i < kLogCommands; ++i) {
    out << "see the log: dectl logs " << run.run_id() << " " << failed[i] << "\n";
  }
  if (failed.size() > kLogCommands) {
    out << "(" << failed.size() - kLogCommands << " more failed tasks: dectl runs show "
        << run.run_id() << ")\n";
  }
  out.flush();
}

}  // namespace de::cli
