// Worker sessions (register, heartbeats, results, disconnects) and the task logs they stream.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "server/sched/scheduler.h"
#include "spdlog/spdlog.h"

namespace de::sched {
namespace {

using common::FromMillis;
using common::ToMillis;

}  // namespace

absl::StatusOr<v1::RegisterAck> Scheduler::RegisterWorker(const v1::Register& reg,
                                                          std::shared_ptr<WorkerChannel> channel,
                                                          uint64_t session_id) {
  if (reg.name().empty()) return absl::InvalidArgumentError("worker name is empty");
  if (reg.slots() <= 0) return absl::InvalidArgumentError("worker slots must be positive");
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  WorkerState& w = workers_[reg.name()];
  if (w.channel && w.session_id != session_id) {
    // Live means heard from within three heartbeats (and half a lease): a twin with the same
    // name heartbeats and is refused for good, while a worker back from a network drop whose
    // old session the scheduler has not seen close gets in before its attempts' leases lapse.
    const absl::Duration silent = now - w.last_seen;
    const absl::Duration live = std::min(options_.lease / 2, options_.heartbeat * 3);
    if (silent < live) {
      spdlog::warn("refused a second session for worker name {}: it is connected and was heard "
                   "from {}ms ago",
                   reg.name(), absl::ToInt64Milliseconds(silent));
      return absl::AlreadyExistsError(absl::StrCat(
          "a worker named '", reg.name(), "' is already connected (heard from ",
          absl::ToInt64Milliseconds(silent), "ms ago); give each worker its own --name. A worker "
          "coming back from a network drop is let in once its old session has been silent for ",
          absl::ToInt64Milliseconds(live), "ms"));
    }
    spdlog::warn("worker {} reconnected; its previous session was silent for {}ms and is closed",
                 reg.name(), absl::ToInt64Milliseconds(silent));
    w.channel->Close();
  }
  if (w.first_seen_ms == 0) w.first_seen_ms = ToMillis(now);
  w.name = reg.name();
  w.slots = reg.slots();
  w.pools.assign(reg.pools().begin(), reg.pools().end());
  if (w.pools.empty()) w.pools.push_back("*");  // no --pools: serves every pool
  w.version = reg.version();
  w.channel = channel;
  w.session_id = session_id;
  w.connected_at = now;
  w.last_seen = now;
  w.suspect = false;

  v1::RegisterAck ack;
  ack.set_heartbeat_interval_ms(absl::ToInt64Milliseconds(options_.heartbeat));
  ack.set_lease_ms(absl::ToInt64Milliseconds(options_.lease));
  ack.set_max_log_bytes(options_.max_log_bytes);
  ack.set_acks_heartbeats(true);
  std::set<int64_t> held(reg.running_attempt_ids().begin(), reg.running_attempt_ids().end());
  w.attempts.clear();
  for (int64_t id : held) {
    auto it = inflight_.find(id);
    if (it == inflight_.end() || it->second.worker != reg.name()) {
      ack.add_fenced_attempt_ids(id);
      spdlog::warn("worker {} still runs attempt={} which was fenced; telling it to stop",
                   reg.name(), id);
      continue;
    }
    it->second.lease_expires = now + options_.lease;
    w.attempts.insert(id);
    (*ack.mutable_log_offsets())[id] = StoredLogBytes(id);
  }
  std::vector<int64_t> missing;
  {
    absl::MutexLock results_lock(&results_mu_);
    for (const auto& [id, fl] : inflight_) {
      // An attempt whose result is queued is finished, not lost.
      if (fl.worker == reg.name() && !held.count(id) && !results_.count(id)) missing.push_back(id);
    }
  }
  store::Transaction tx(store_->db());
  absl::Status st = tx.status();
  for (int64_t id : missing) {
    if (!st.ok()) break;
    st = EndAttempt(id, "lost", std::nullopt,
                    absl::StrCat("worker ", reg.name(), " restarted without it"), {});
  }
  if (st.ok()) {
    store::WorkerRow row;
    row.name = w.name;
    row.slots = w.slots;
    row.pools = w.pools;
    row.version = w.version;
    row.first_seen = w.first_seen_ms;
    row.last_seen = ToMillis(now);
    row.state = "connected";
    st = store_->UpsertWorker(row);
  }
  if (st.ok()) {
    // The ack goes first on the stream, before any assignment, and only once the lost attempts
    // it implies are committed.
    v1::SchedulerMessage m;
    *m.mutable_ack() = ack;
    outbox_.insert(outbox_.begin(), Outgoing{channel, std::move(m)});
  }
  DE_RETURN_IF_ERROR(FinishStep(tx, st, "register"));
  spdlog::info("worker {} connected: {} slots, pools [{}], {} attempts kept", w.name, w.slots,
               absl::StrJoin(w.pools, ","), w.attempts.size());
  Dispatch();
  file_waits_.WorkerConnected(now);   // after the ack: data waits nobody could check
  SendDueProbes(now);
  return ack;
}

void Scheduler::OnWorkerMessage(const std::string& worker, uint64_t session_id,
                                const v1::WorkerMessage& msg) {
  if (msg.has_log()) {
    WriteLog(msg.log().attempt_id(), msg.log().offset(), msg.log().data());
    return;
  }
  if (msg.has_result()) {
    {
      absl::MutexLock lock(&results_mu_);
      // A second report of a queued result is the same report: the first one stays.
      results_.try_emplace(msg.result().attempt_id(),
                           QueuedResult{worker, session_id, msg.result()});
    }
    const absl::Time now_real = absl::Now();
    absl::MutexLock lock(&mu_);
    DrainResults();   // ours may already be committed by another thread's batch
    if (observer_ != nullptr) observer_->OnLoop(absl::Now() - now_real);
    return;
  }
  absl::MutexLock lock(&mu_);
  if (msg.has_probe_result()) return OnProbeResult(worker, session_id, msg.probe_result());
  auto wit = workers_.find(worker);
  if (wit == workers_.end() || wit->second.session_id != session_id) return;
  WorkerState& w = wit->second;
  const absl::Time now = clock_->Now();
  w.last_seen = now;
  const bool was_suspect = std::exchange(w.suspect, false);
  if (msg.has_heartbeat()) {
    for (int64_t id : msg.heartbeat().running_attempt_ids()) {
      auto it = inflight_.find(id);
      if (it != inflight_.end() && it->second.worker == worker) {
        it->second.lease_expires = now + options_.lease;
      } else if (w.channel) {
        v1::SchedulerMessage m;
        m.mutable_cancel()->set_attempt_id(id);
        m.mutable_cancel()->set_reason("fenced");
        w.channel->Send(m);
      }
    }
    if (w.channel) {   // renewed: the worker keeps its attempts for another lease
      v1::SchedulerMessage m;
      m.mutable_heartbeat_ack()->set_seq(msg.heartbeat().seq());
      w.channel->Send(m);
    }
    if (was_suspect) {   // back from silence: it may take work (and data probes) again
      file_waits_.WorkerConnected(now);
      Dispatch();
    }
    return;
  }
}

void Scheduler::DrainResults() {
  if (StoreBackingOff()) return;   // they stay queued; the timer pass applies them after it
  if (ApplyResults()) Dispatch();
}

std::vector<v1::TaskResult> Scheduler::AcceptQueuedResults() {
  const absl::Time now = clock_->Now();
  std::vector<v1::TaskResult> accepted;
  absl::MutexLock lock(&results_mu_);
  for (auto it = results_.begin(); it != results_.end();) {
    QueuedResult& q = it->second;
    if (!q.accepted) {
      auto wit = workers_.find(q.worker);
      if (wit == workers_.end() || wit->second.session_id != q.session_id) {
        it = results_.erase(it);   // from a session that has been replaced
        continue;
      }
      wit->second.last_seen = now;
      wit->second.suspect = false;
      auto fit = inflight_.find(it->first);
      if (fit == inflight_.end() || fit->second.worker != q.worker) {
        spdlog::warn("ignoring late report from worker {} for fenced attempt={} ({})", q.worker,
                     it->first, q.result.success() ? "success" : "failure");
        AckResult(q.worker, q.session_id, it->first, false);
        it = results_.erase(it);
        continue;
      }
      fit->second.lease_expires = now + options_.lease;
      q.accepted = true;
    }
    accepted.push_back(q.result);
    ++it;
  }
  return accepted;
}

absl::Status Scheduler::ApplyResult(const v1::TaskResult& r) {
  if (!inflight_.count(r.attempt_id())) return absl::OkStatus();   // ended meanwhile (cancel)
  const std::string state = r.success()     ? "success"
                            : r.timed_out() ? "timed_out"
                            : r.cancelled() ? "cancelled"
                                            : "failed";
  std::map<std::string, int64_t> counters(r.counters().begin(), r.counters().end());
  TakeMapperItems(r);   // a for_each task's mapper step: its items (mapping.cc)
  return EndAttempt(r.attempt_id(), state, r.exit_code(), r.error(), counters,
                    !r.non_retryable());
}

bool Scheduler::ApplyResults() {
  // Each pass commits the batch, keeps it (the store failed), or drops the one result whose own
  // step failed and tries the others again: at most one pass per result. The slots the results
  // free are dispatched in the same commit; should that dispatch fail on its own (not the store),
  // the batch is committed again without it and Dispatch runs on its own afterwards.
  bool with_dispatch = true;
  for (bool any = false;; any = true) {
    std::vector<v1::TaskResult> batch = AcceptQueuedResults();
    if (batch.empty()) return any;
    store::Transaction tx(store_->db());
    absl::Status st = tx.status();
    size_t failed = batch.size();   // the result whose step failed, if one did
    for (size_t i = 0; st.ok() && i < batch.size(); ++i) {
      st = ApplyResult(batch[i]);
      if (!st.ok()) failed = i;
    }
    bool dispatch_failed = false;
    if (st.ok() && with_dispatch) {
      bool wrote = false;
      st = DispatchSteps(&wrote);
      dispatch_failed = !st.ok() && !store::IsStoreFailure(st);
    }
    const bool own_error = failed < batch.size() && !store::IsStoreFailure(st);
    const absl::Status done = FinishStep(tx, st, "worker results");
    absl::MutexLock lock(&results_mu_);
    if (done.ok()) {
      for (const auto& r : batch) {
        auto q = results_.find(r.attempt_id());
        if (q == results_.end()) continue;
        AckResult(q->second.worker, q->second.session_id, r.attempt_id(), true);
        results_.erase(q);
      }
      return true;
    }
    if (dispatch_failed) {
      spdlog::error("dispatching with worker results failed; the results are committed alone: {}",
                    done.ToString());
      with_dispatch = false;
      continue;
    }
    if (!own_error) return true;   // the store failed: all stay queued until the backoff ends
    const v1::TaskResult& bad = batch[failed];
    spdlog::error("the result of attempt={} ({}) cannot be recorded and is dropped; the attempt "
                  "ends by lease, as a lost report; the other {} results are applied without it: "
                  "{}",
                  bad.attempt_id(), bad.success() ? "success" : "failure", batch.size() - 1,
                  done.ToString());
    if (auto q = results_.find(bad.attempt_id()); q != results_.end()) {
      AckResult(q->second.worker, q->second.session_id, bad.attempt_id(), false);
      results_.erase(q);
    }
  }
}

void Scheduler::AckResult(const std::string& worker, uint64_t session_id, int64_t attempt_id,
                          bool recorded) {
  auto wit = workers_.find(worker);
  if (wit == workers_.end() || wit->second.session_id != session_id || !wit->second.channel) {
    return;   // that session is gone: the worker sends the result again on its next one
  }
  v1::SchedulerMessage m;
  m.mutable_result_ack()->set_attempt_id(attempt_id);
  m.mutable_result_ack()->set_recorded(recorded);
  wit->second.channel->Send(m);
}

void Scheduler::CloseWorkerSessions() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, w] : workers_) {
    if (w.channel) w.channel->Close();
  }
}

void Scheduler::OnWorkerDisconnected(const std::string& worker, uint64_t session_id) {
  absl::MutexLock lock(&mu_);
  auto wit = workers_.find(worker);
  if (wit == workers_.end() || wit->second.session_id != session_id) return;
  WorkerState& w = wit->second;
  w.channel.reset();
  w.last_seen = clock_->Now();
  file_waits_.WorkerGone(worker, w.last_seen);   // its probes out go to another worker
  wake_ = true;
  store::WorkerRow row;
  row.name = w.name;
  row.slots = w.slots;
  row.pools = w.pools;
  row.version = w.version;
  row.first_seen = w.first_seen_ms;
  row.last_seen = ToMillis(w.last_seen);
  row.state = "disconnected";
  absl::Status st = store_->UpsertWorker(row);
  if (!st.ok()) spdlog::error("recording worker {} disconnect: {}", worker, st.ToString());
  spdlog::warn("worker {} disconnected with {} attempts in flight (lease {}s)", worker,
               w.attempts.size(), absl::ToInt64Seconds(options_.lease));
}

// ---------------------------------------------------------------------------------------------
// Logs.

std::string Scheduler::LogPath(const std::string& run_id, const std::string& task_id,
                               int try_number) const {
  return absl::StrCat(options_.logs_dir, "/", run_id, "/", task_id, "/", try_number, ".log");
}

int64_t Scheduler::StoredLogBytes(int64_t attempt_id) {
  absl::MutexLock lock(&log_mu_);
  auto pit = log_paths_.find(attempt_id);
  if (pit == log_paths_.end()) return 0;
  struct stat st;
  if (stat(pit->second.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_size);
}

void Scheduler::WriteLog(int64_t attempt_id, int64_t offset, const std::string& data_in) {
  // A worker's offsets are trusted only within reason: no sparse multi-terabyte log files.
  constexpr int64_t kMaxOffset = int64_t{64} << 30;
  if (offset < 0 || offset > kMaxOffset) {
    spdlog::warn("attempt={} sent a log chunk at offset {}; ignored", attempt_id, offset);
    return;
  }
  absl::MutexLock lock(&log_mu_);
  auto pit = log_paths_.find(attempt_id);
  if (pit == log_paths_.end()) return;  // unknown or fenced attempt
  // The cap, with room for the marker a worker writes when it capped the log itself.
  std::string data = data_in;
  const int64_t limit =
      options_.max_log_bytes > 0 ? options_.max_log_bytes + 1024 : kMaxOffset + (1 << 30);
  if (offset + static_cast<int64_t>(data.size()) > limit) {
    data.resize(static_cast<size_t>(std::max<int64_t>(0, limit - offset)));
    if (log_capped_.insert(attempt_id).second) {
      spdlog::warn("attempt={}: log over {} bytes; the rest is dropped", attempt_id, limit);
      data += absl::StrCat("\n[de: log capped at ", options_.max_log_bytes,
                           " bytes by the scheduler; the rest was dropped]\n");
    }
    if (data.empty()) return;
  }
  auto fit = log_fds_.find(attempt_id);
  if (fit == log_fds_.end()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(pit->second).parent_path(), ec);
    int fd = open(pit->second.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      spdlog::error("cannot open log {}: {}", pit->second, strerror(errno));
      return;
    }
    fit = log_fds_.emplace(attempt_id, fd).first;
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = pwrite(fit->second, data.data() + done, data.size() - done, offset + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("writing log {}: {}", pit->second, strerror(errno));
      return;
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace de::sched
