// Worker sessions (register, heartbeats, results, disconnects) and the task logs they stream.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
    spdlog::warn("worker {} reconnected; closing its previous session", reg.name());
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
  }
  std::vector<int64_t> missing;
  for (const auto& [id, fl] : inflight_) {
    // An attempt whose result waits for the store is finished, not lost.
    if (fl.worker == reg.name() && !held.count(id) && !pending_results_.count(id)) {
      missing.push_back(id);
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
      absl::MutexLock lock(&incoming_mu_);
      incoming_.push_back({worker, session_id, msg.result()});
    }
    const absl::Time now_real = absl::Now();
    absl::MutexLock lock(&mu_);
    DrainIncomingResults();   // ours may already be committed by another thread's batch
    if (observer_ != nullptr) observer_->OnLoop(absl::Now() - now_real);
    return;
  }
  absl::MutexLock lock(&mu_);
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
    if (was_suspect) Dispatch();  // back from silence: it may take work again
    return;
  }
}

void Scheduler::DrainIncomingResults() {
  std::vector<IncomingResult> batch;
  {
    absl::MutexLock lock(&incoming_mu_);
    batch.swap(incoming_);
  }
  if (batch.empty()) return;
  const absl::Time now = clock_->Now();
  for (const IncomingResult& in : batch) {
    auto wit = workers_.find(in.worker);
    if (wit == workers_.end() || wit->second.session_id != in.session_id) continue;
    wit->second.last_seen = now;
    wit->second.suspect = false;
    const v1::TaskResult& r = in.result;
    auto it = inflight_.find(r.attempt_id());
    if (it == inflight_.end() || it->second.worker != in.worker) {
      spdlog::warn("ignoring late report from worker {} for fenced attempt={} ({})", in.worker,
                   r.attempt_id(), r.success() ? "success" : "failure");
      continue;
    }
    it->second.lease_expires = now + options_.lease;
    pending_results_[r.attempt_id()] = {in.worker, r};
  }
  if (StoreBackingOff()) return;   // kept; the timer pass applies them once the store is back
  ApplyPendingResults();
  Dispatch();
}

void Scheduler::ApplyPendingResults() {
  if (pending_results_.empty()) return;
  store::Transaction tx(store_->db());
  absl::Status st = tx.status();
  for (auto it = pending_results_.begin(); st.ok() && it != pending_results_.end(); ++it) {
    const auto& [worker, r] = it->second;
    auto fit = inflight_.find(r.attempt_id());
    if (fit == inflight_.end() || fit->second.worker != worker) continue;   // ended meanwhile
    std::string state = r.success()     ? "success"
                        : r.timed_out() ? "timed_out"
                        : r.cancelled() ? "cancelled"
                                        : "failed";
    std::map<std::string, int64_t> counters(r.counters().begin(), r.counters().end());
    st = EndAttempt(r.attempt_id(), state, r.exit_code(), r.error(), counters, !r.non_retryable());
  }
  // A full disk or an I/O error passes: keep the results. Anything else is not the store's
  // fault and would fail again; drop them (their attempts end by lease, as a lost report).
  if (!st.ok() && !store::IsStoreFailure(st)) pending_results_.clear();
  if (FinishStep(tx, st, "result").ok()) pending_results_.clear();
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
  return absl::StrCat(options_.de_home, "/logs/", run_id, "/", task_id, "/", try_number, ".log");
}

void Scheduler::WriteLog(int64_t attempt_id, int64_t offset, const std::string& data) {
  // A worker's offsets are trusted only within reason: no sparse multi-terabyte log files.
  constexpr int64_t kMaxLogBytes = int64_t{64} << 30;
  if (offset < 0 || offset > kMaxLogBytes) {
    spdlog::warn("attempt={} sent a log chunk at offset {}; ignored", attempt_id, offset);
    return;
  }
  absl::MutexLock lock(&log_mu_);
  auto pit = log_paths_.find(attempt_id);
  if (pit == log_paths_.end()) return;  // unknown or fenced attempt
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
