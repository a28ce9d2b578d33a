// The scheduler's book of data-arrival waits (`wait_for:` path / glob entries of waiting runs):
// what each wait needs, what the last look found and when, which probe is out to which worker,
// and when to look next. The scheduler may not see the data root, so a connected worker looks
// (v1::Probe, answered by v1::ProbeResult; no task slot, no child process).
//
// Rules: a wait is looked at as soon as it is tracked, then every poke_interval (doubling up to
// max(poke_interval, 10m) with exponential_backoff) until it is satisfied, which it then stays.
// With no worker connected nothing is sent and nothing is due (no busy loop): the waits are due
// again the moment a worker connects. A probe out is re-sent (to the next worker) when its worker
// goes away or has not answered within kAnswerTimeout; passing errors back off from 1s to the
// poke interval. A permanent error (the path leaves the data root) breaks the wait: its run fails.
//
// Pure bookkeeping: no store, no I/O, no clock of its own. Not thread-safe: the scheduler calls
// it under its lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "de/v1/worker.pb.h"

namespace de::sched {

// One wait, its path rendered for its run.
struct FileWaitTarget {
  std::string path;  // relative to the data root
  bool glob = false;
  int min_files = 1;  // glob only
  absl::Duration poke_interval = absl::Seconds(30);
  bool exponential_backoff = false;
  absl::Duration min_age;
  std::string broken;  // non-empty: cannot be checked (rendering failed), why

  bool operator==(const FileWaitTarget&) const = default;
};

struct ProbeToSend {
  std::string worker;
  v1::Probe probe;
};

class FileWaits {
 public:
  static constexpr absl::Duration kAnswerTimeout = absl::Seconds(15);
  static constexpr absl::Duration kMaxBackoffInterval = absl::Minutes(10);

  // Tracks the waits of `run_id`. When the same targets are tracked already, their state is
  // kept (a reload of the scheduler's state); otherwise every wait is due at `now`.
  void Track(const std::string& run_id, std::vector<FileWaitTarget> targets, absl::Time now);
  // Drops the runs for which `keep(run_id)` is false (those no longer waiting).
  void Retain(const std::function<bool(const std::string&)>& keep);
  bool Tracked(const std::string& run_id) const { return runs_.count(run_id) > 0; }

  // Whether every wait of `run_id` is satisfied (false when it is not tracked). Otherwise adds a
  // line per unsatisfied wait to `missing` ("raw/a.csv: not there yet (checked 12s ago)",
  // "raw/*.csv: 3 of 24 files (checked 12s ago)", "raw/a.csv: no worker connected to check").
  bool Satisfied(const std::string& run_id, absl::Time now,
                 std::vector<std::string>* missing) const;
  // Why `run_id` cannot go on waiting (a wait is broken), or nullopt.
  std::optional<std::string> Broken(const std::string& run_id) const;

  // Probes due at `now`, spread round-robin over `workers` (connected, able to check); they
  // are marked out. With no worker, each due wait is marked so and is not due again until
  // WorkerConnected.
  std::vector<ProbeToSend> TakeDue(absl::Time now, const std::vector<std::string>& workers);
  // The earliest moment a look or an answer is due; InfiniteFuture when nothing is (until a
  // worker connects).
  absl::Time NextDue() const;
  // A worker connected: waits that found none are due at `now`.
  void WorkerConnected(absl::Time now);
  // A worker's session ended: its probes out are due again at `now`.
  void WorkerGone(const std::string& worker, absl::Time now);
  // Applies `worker`'s answer (stale ones are ignored). When a wait became satisfied or broken,
  // its run may move on: it is marked (TakeMoved).
  void OnResult(const std::string& worker, const v1::ProbeResult& result, absl::Time now);
  // The runs that may move on (a wait satisfied or broken since the last call), once each; the
  // scheduler marks them again (MarkMoved) when it could not commit their move.
  std::vector<std::string> TakeMoved();
  void MarkMoved(const std::vector<std::string>& run_ids);
  bool HasMoved() const { return !moved_.empty(); }

 private:
  struct Wait {
    FileWaitTarget target;
    bool satisfied = false;
    std::string broken;  // permanent error: the run fails
    int found = 0;       // from the last answer
    int too_new = 0;
    absl::Time checked_at = absl::InfinitePast();  // the last answer
    std::string error;                             // the last look failed (passing), why
    absl::Time next_at;                            // next look (InfiniteFuture: not due)
    absl::Duration interval;                       // between looks (grows with backoff)
    int failures = 0;                              // consecutive failed looks
    bool no_worker = false;                        // due, but no worker to ask
    int64_t probe_id = 0;                          // out; 0 = none
    std::string probe_worker;
    absl::Time answer_by;
  };
  struct RunWaits {
    std::vector<FileWaitTarget> targets;
    std::vector<Wait> waits;
  };

  std::string Describe(const Wait& w, absl::Time now) const;
  // A failed look (no answer, passing error): the next one after a backoff.
  void LookFailed(Wait& w, std::string error, absl::Time now);

  std::map<std::string, RunWaits> runs_;
  std::map<int64_t, std::pair<std::string, size_t>> probes_;  // probe id -> (run, wait index)
  std::set<std::string> moved_;
  int64_t next_probe_id_ = 1;
  size_t next_worker_ = 0;
};

}  // namespace de::sched
