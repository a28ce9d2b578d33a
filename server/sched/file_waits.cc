#include "server/sched/file_waits.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace de::sched {
namespace {

// "12s", "5m", "3h" (rounded down).
std::string Ago(absl::Duration d) {
  d = std::max(d, absl::ZeroDuration());
  if (d < absl::Minutes(2)) return absl::StrCat(absl::ToInt64Seconds(d), "s");
  if (d < absl::Hours(2)) return absl::StrCat(absl::ToInt64Minutes(d), "m");
  return absl::StrCat(absl::ToInt64Hours(d), "h");
}

bool Enough(const FileWaitTarget& t, int found) { return found >= (t.glob ? t.min_files : 1); }

}  // namespace

void FileWaits::Track(const std::string& run_id, std::vector<FileWaitTarget> targets,
                      absl::Time now) {
  auto it = runs_.find(run_id);
  if (it != runs_.end() && it->second.targets == targets) return;
  if (it != runs_.end()) {
    for (const Wait& w : it->second.waits) probes_.erase(w.probe_id);
  }
  RunWaits rw;
  for (const auto& t : targets) {
    Wait w;
    w.target = t;
    w.broken = t.broken;
    w.next_at = now;
    w.interval = t.poke_interval;
    rw.waits.push_back(std::move(w));
  }
  for (const auto& t : targets) {
    if (!t.broken.empty()) moved_.insert(run_id);
  }
  rw.targets = std::move(targets);
  runs_[run_id] = std::move(rw);
}

std::vector<std::string> FileWaits::TakeMoved() {
  std::vector<std::string> out(moved_.begin(), moved_.end());
  moved_.clear();
  return out;
}

void FileWaits::MarkMoved(const std::vector<std::string>& run_ids) {
  for (const auto& id : run_ids) {
    if (runs_.count(id)) moved_.insert(id);
  }
}

void FileWaits::Retain(const std::function<bool(const std::string&)>& keep) {
  for (auto it = runs_.begin(); it != runs_.end();) {
    if (keep(it->first)) {
      ++it;
      continue;
    }
    for (const Wait& w : it->second.waits) probes_.erase(w.probe_id);
    moved_.erase(it->first);
    it = runs_.erase(it);
  }
}

bool FileWaits::Satisfied(const std::string& run_id, absl::Time now,
                          std::vector<std::string>* missing) const {
  auto it = runs_.find(run_id);
  if (it == runs_.end()) {
    missing->push_back("data waits: not checked yet");
    return false;
  }
  bool ok = true;
  for (const Wait& w : it->second.waits) {
    if (w.satisfied) continue;
    ok = false;
    missing->push_back(Describe(w, now));
  }
  return ok;
}

std::optional<std::string> FileWaits::Broken(const std::string& run_id) const {
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return std::nullopt;
  for (const Wait& w : it->second.waits) {
    if (!w.broken.empty()) return w.broken;
  }
  return std::nullopt;
}

std::string FileWaits::Describe(const Wait& w, absl::Time now) const {
  const FileWaitTarget& t = w.target;
  std::string line = absl::StrCat(t.path, ": ");
  if (!w.broken.empty()) return line + w.broken;
  const bool checked = w.checked_at != absl::InfinitePast();
  if (!checked && w.no_worker) return line + "no worker connected to check";
  if (!checked && !w.error.empty()) return absl::StrCat(line, w.error, "; asking again");
  if (!checked) return line + "not checked yet";
  if (t.glob) {
    absl::StrAppend(&line, w.found, " of ", t.min_files, t.min_files == 1 ? " file" : " files");
  } else {
    line += w.too_new > 0 ? "there, but modified less than " : "not there yet";
    if (w.too_new > 0) absl::StrAppend(&line, absl::FormatDuration(t.min_age), " ago");
  }
  if (t.glob && w.too_new > 0) {
    absl::StrAppend(&line, " (and ", w.too_new, " modified less than ",
                    absl::FormatDuration(t.min_age), " ago)");
  }
  absl::StrAppend(&line, " (checked ", Ago(now - w.checked_at), " ago");
  if (w.no_worker) line += "; no worker connected to check now";
  if (!w.error.empty()) absl::StrAppend(&line, "; then: ", w.error);
  return line + ")";
}

std::vector<ProbeToSend> FileWaits::TakeDue(absl::Time now,
                                            const std::vector<std::string>& workers) {
  std::vector<ProbeToSend> out;
  for (auto& [run_id, rw] : runs_) {
    for (size_t i = 0; i < rw.waits.size(); ++i) {
      Wait& w = rw.waits[i];
      if (w.satisfied || !w.broken.empty()) continue;
      if (w.probe_id != 0 && w.answer_by <= now) {
        probes_.erase(w.probe_id);
        w.probe_id = 0;
        LookFailed(w, absl::StrCat("no answer from worker ", w.probe_worker), now);
      }
      if (w.probe_id != 0 || w.next_at > now) continue;
      if (workers.empty()) {
        w.no_worker = true;
        w.next_at = absl::InfiniteFuture();  // WorkerConnected makes it due again
        continue;
      }
      w.no_worker = false;
      ProbeToSend p;
      p.worker = workers[next_worker_++ % workers.size()];
      p.probe.set_probe_id(next_probe_id_++);
      p.probe.set_path(w.target.path);
      p.probe.set_glob(w.target.glob);
      p.probe.set_min_age_ms(absl::ToInt64Milliseconds(w.target.min_age));
      w.probe_id = p.probe.probe_id();
      w.probe_worker = p.worker;
      w.answer_by = now + kAnswerTimeout;
      probes_[w.probe_id] = {run_id, i};
      out.push_back(std::move(p));
    }
  }
  return out;
}

absl::Time FileWaits::NextDue() const {
  absl::Time next = absl::InfiniteFuture();
  for (const auto& [run_id, rw] : runs_) {
    for (const Wait& w : rw.waits) {
      if (w.satisfied || !w.broken.empty()) continue;
      next = std::min(next, w.probe_id != 0 ? w.answer_by : w.next_at);
    }
  }
  return next;
}

void FileWaits::WorkerConnected(absl::Time now) {
  for (auto& [run_id, rw] : runs_) {
    for (Wait& w : rw.waits) {
      if (w.no_worker) w.next_at = now;
    }
  }
}

void FileWaits::WorkerGone(const std::string& worker, absl::Time now) {
  for (auto& [run_id, rw] : runs_) {
    for (Wait& w : rw.waits) {
      if (w.probe_id == 0 || w.probe_worker != worker) continue;
      probes_.erase(w.probe_id);
      w.probe_id = 0;
      w.next_at = now;  // ask another worker (or none: then it waits for one)
    }
  }
}

void FileWaits::LookFailed(Wait& w, std::string error, absl::Time now) {
  w.error = std::move(error);
  ++w.failures;
  const absl::Duration backoff = std::min(
      absl::Seconds(1) * (int64_t{1} << std::min(w.failures - 1, 20)), w.target.poke_interval);
  w.next_at = now + backoff;
}

void FileWaits::OnResult(const std::string& worker, const v1::ProbeResult& result, absl::Time now) {
  auto pit = probes_.find(result.probe_id());
  if (pit == probes_.end()) return;  // stale: re-sent, or the run moved on
  const auto [run_id, index] = pit->second;
  Wait& w = runs_.at(run_id).waits.at(index);
  if (w.probe_worker != worker) return;
  probes_.erase(pit);
  w.probe_id = 0;
  if (!result.error().empty()) {
    if (result.permanent()) {
      w.broken = result.error();
      moved_.insert(run_id);
      return;
    }
    LookFailed(w, absl::StrCat("worker ", worker, ": ", result.error()), now);
    return;
  }
  w.error.clear();
  w.failures = 0;
  w.checked_at = now;
  w.found = result.found();
  w.too_new = result.too_new();
  if (Enough(w.target, w.found)) {
    w.satisfied = true;
    moved_.insert(run_id);
    return;
  }
  w.next_at = now + w.interval;
  if (w.target.exponential_backoff) {
    w.interval = std::min(w.interval * 2, std::max(w.target.poke_interval, kMaxBackoffInterval));
  }
}

}  // namespace de::sched
