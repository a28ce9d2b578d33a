// Waits on data (`wait_for:` path / glob): rendering a waiting run's paths, asking connected
// workers to look (probes hold no slot and start no process), and moving the run on when they
// answer: queued once every wait is satisfied, failed (wait_failed) when a path cannot be
// checked. Timeouts are those of every wait (timers.cc, wait_timeout). Under the scheduler's lock.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "server/sched/scheduler.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::FromMillis;

bool HasFileWaits(const dag::DagSpec& spec) {
  for (const auto& w : spec.wait_for) {
    if (w.kind != dag::WaitKind::kDag) return true;
  }
  return false;
}

// The rendered path stays inside the data root as far as its text tells (the worker also checks
// it, with links resolved): relative, no "..".
std::string LeavesRoot(const std::string& path) {
  if (path.empty()) return "is empty";
  if (path.front() == '/') return "is not relative to the data root";
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") return "leaves the data root ('..')";
  }
  return "";
}

}  // namespace

void Scheduler::TrackFileWaits(const ActiveRun& run) {
  const dag::DagSpec& spec = *run.dag;
  if (!HasFileWaits(spec)) return;
  std::map<std::string, std::string> params = spec.params;
  for (const auto& [k, v] : run.row.conf) params[k] = v;
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(spec.timezone, &tz)) tz = absl::UTCTimeZone();
  const dag::TemplateContext ctx = dag::MakeTemplateContext(
      spec.id, run.row.run_id, "", 0, FromMillis(run.row.logical_date),
      FromMillis(run.row.interval_start), FromMillis(run.row.interval_end), tz, params);
  std::vector<FileWaitTarget> targets;
  for (const auto& w : spec.wait_for) {
    if (w.kind == dag::WaitKind::kDag) continue;
    FileWaitTarget t;
    t.glob = w.kind == dag::WaitKind::kGlob;
    t.min_files = w.min_files;
    t.poke_interval = w.poke_interval;
    t.exponential_backoff = w.exponential_backoff;
    t.min_age = w.min_age;
    auto path = dag::RenderTemplate(w.pattern, ctx);
    if (!path.ok()) {
      t.path = w.pattern;
      t.broken = absl::StrCat("cannot render: ", path.status().message());
    } else {
      t.path = *path;
      if (std::string why = LeavesRoot(t.path); !why.empty()) {
        t.broken = absl::StrCat("wait_for ", t.glob ? "glob" : "path", " '", t.path, "' ", why);
      }
    }
    targets.push_back(std::move(t));
  }
  file_waits_.Track(run.row.run_id, std::move(targets), clock_->Now());
  wake_ = true;  // the first look is due now
}

bool Scheduler::FileWaitsSatisfied(const store::RunRow& run, const dag::DagSpec& spec,
                                   std::vector<std::string>* missing) {
  if (!HasFileWaits(spec)) return true;
  return file_waits_.Satisfied(run.run_id, clock_->Now(), missing);
}

void Scheduler::SendDueProbes(absl::Time now) {
  file_waits_.Retain([this](const std::string& run_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = runs_.find(run_id);
    return it != runs_.end() && it->second->state == RunState::kWaiting;
  });
  std::vector<std::string> workers;  // connected and answering (a suspect one may be gone)
  for (const auto& [name, w] : workers_) {
    if (w.channel && !w.suspect) workers.push_back(name);
  }
  for (auto& p : file_waits_.TakeDue(now, workers)) {
    v1::SchedulerMessage m;
    *m.mutable_probe() = std::move(p.probe);
    workers_.at(p.worker).channel->Send(m);  // Send never blocks; a probe is no state change
  }
}

absl::Status Scheduler::MoveFileWaiters(const std::vector<std::string>& run_ids) {
  for (const auto& id : run_ids) {
    ActiveRun* run = FindRun(id);
    if (run == nullptr || run->state != RunState::kWaiting) continue;
    if (auto broken = file_waits_.Broken(id)) {
      DE_RETURN_IF_ERROR(FailWaitingRun(*run, absl::StrCat("wait_failed: ", *broken), false));
    } else {
      DE_RETURN_IF_ERROR(ReleaseIfSatisfied(*run));
    }
  }
  return absl::OkStatus();
}

void Scheduler::OnProbeResult(const std::string& worker, uint64_t session_id,
                              const v1::ProbeResult& r) {
  auto wit = workers_.find(worker);
  if (wit == workers_.end() || wit->second.session_id != session_id) return;
  const absl::Time now = clock_->Now();
  wit->second.last_seen = now;
  file_waits_.OnResult(worker, r, now);
  if (!file_waits_.HasMoved()) return;
  if (StoreBackingOff()) {
    wake_ = true;  // the timer pass moves the run on once the store is back
    return;
  }
  const std::vector<std::string> moved = file_waits_.TakeMoved();
  store::Transaction tx(store_->db());
  absl::Status st = tx.status();
  if (st.ok()) st = MoveFileWaiters(moved);
  if (FinishStep(tx, st, "data wait").ok()) {
    Dispatch();
  } else {
    file_waits_.MarkMoved(moved);
  }
}

}  // namespace de::sched
