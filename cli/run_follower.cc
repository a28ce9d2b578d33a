#include "cli/run_follower.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/run_progress.h"

namespace de::cli {
namespace {

std::string Prefix(const std::string& task, int try_number) {
  return try_number > 1 ? absl::StrCat("[", task, " try ", try_number, "] ")
                        : absl::StrCat("[", task, "] ");
}

}  // namespace

void RunFollower::DrainLog(const std::string& task, int try_number, bool ended) {
  LogCursor& c = logs_[{task, try_number}];
  if (c.done) return;
  while (true) {
    v1::GetTaskLogRequest req;
    req.set_run_id(run_id_);
    req.set_task_id(task);
    req.set_try_number(try_number);
    req.set_offset(c.offset);
    auto resp = scheduler_->GetTaskLog(req);
    if (!resp.ok()) return;   // not started yet
    c.offset = resp->next_offset();
    const std::string& data = resp->data();
    size_t start = 0;
    for (size_t nl = data.find('\n'); nl != std::string::npos; nl = data.find('\n', start)) {
      out_ << Prefix(task, try_number) << c.partial << data.substr(start, nl - start) << "\n";
      c.partial.clear();
      start = nl + 1;
    }
    c.partial += data.substr(start);
    if (resp->finished() || (ended && data.empty())) {
      if (!c.partial.empty()) out_ << Prefix(task, try_number) << c.partial << "\n";
      c.partial.clear();
      c.done = resp->finished();
      return;
    }
    if (data.empty()) return;
  }
}

void RunFollower::PrintStateChanges(const v1::Run& run) {
  const int64_t now = NowMs();
  const std::string waiting_on = absl::StrJoin(run.waiting_on(), "\n");
  if (waiting_on != waiting_on_) {
    for (const auto& w : run.waiting_on()) out_ << "  waiting on " << w << "\n";
    waiting_on_ = waiting_on;
  }
  for (const auto& t : run.tasks()) {
    auto key = std::make_pair(t.state(), t.try_number());
    auto it = states_.find(t.task_id());
    if (it != states_.end() ? it->second == key : t.state() == "scheduled") continue;
    states_[t.task_id()] = key;
    std::string line = absl::StrCat(FormatClock(now), " ", t.task_id(), " ", t.state());
    if (t.try_number() > 0) absl::StrAppend(&line, " (try ", t.try_number(), ")");
    if (IsDoneTaskState(t.state()) && t.started_at_ms() != 0) {
      absl::StrAppend(&line, " in ", FormatElapsed(t.started_at_ms(), t.ended_at_ms(), now));
    }
    if (!t.error().empty() && t.state() != "success") {
      absl::StrAppend(&line, ": ", Abbreviate(t.error(), 200));
    }
    out_ << line << "\n";
  }
  // After the tasks: the run ends with its last task.
  if (run.state() != run_state_) {
    out_ << FormatClock(now) << " run " << run.state()
         << (run.reason().empty() ? "" : absl::StrCat(" (", run.reason(), ")")) << "\n";
    run_state_ = run.state();
  }
}

absl::StatusOr<v1::Run> RunFollower::Poll() {
  auto run = scheduler_->GetRun(run_id_);
  if (!run.ok()) return run.status();
  // Logs first: an attempt's last lines reach the scheduler before its result.
  for (const auto& a : run->attempts()) {
    DrainLog(a.task_id(), a.try_number(), a.state() != "running");
  }
  PrintStateChanges(*run);
  out_.flush();
  return run;
}

}  // namespace de::cli
