#include "worker/agent.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <set>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "common/address_list.h"
#include "common/leader_refusal.h"
#include "common/version.h"
#include "spdlog/spdlog.h"
#include "worker/probe.h"

namespace de::worker {
namespace {

constexpr int64_t kMaxBufferedLogBytes = 64 << 20;

}  // namespace

absl::Duration ReconnectBackoffCap(absl::Duration max_backoff, absl::Duration lease) {
  return std::max(absl::Milliseconds(50), std::min(max_backoff, lease / 4));
}

bool InjectThreadStartFailure() {
  static std::atomic<int> left = [] {
    const char* v = std::getenv("DE_WORKER_TEST_THREAD_FAILURES");
    return v != nullptr ? std::atoi(v) : 0;
  }();
  return left.fetch_sub(1) > 0;
}

Agent::Agent(AgentOptions options)
    : options_(std::move(options)), addresses_(common::SplitAddressList(options_.scheduler)) {}

Agent::~Agent() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, at] : attempts_) {
      if (at->child) at->child->Cancel();
      if (at->thread.joinable()) threads.push_back(std::move(at->thread));
    }
    for (auto& at : done_) {
      if (at->thread.joinable()) threads.push_back(std::move(at->thread));
    }
  }
  for (auto& t : threads) t.join();
}

void Agent::Stop() {
  absl::MutexLock lock(&mu_);
  stop_level_++;
  if (stop_level_ >= 2 && session_ctx_) session_ctx_->TryCancel();
}

void Agent::PushLocked(v1::WorkerMessage msg) {
  if (msg.has_log()) {
    // The scheduler is away for long: drop the chunk from memory (the spool still has it, and it
    // is sent again from the stored offset on the next session).
    if (outbox_log_bytes_ > kMaxBufferedLogBytes) return;
    outbox_log_bytes_ += static_cast<int64_t>(msg.log().data().size());
  }
  outbox_.push_back(std::move(msg));
}

void Agent::Push(v1::WorkerMessage msg) {
  absl::MutexLock lock(&mu_);
  PushLocked(std::move(msg));
}

void Agent::DropQueued(const std::function<bool(const v1::WorkerMessage&)>& drop) {
  std::erase_if(outbox_, [&](const v1::WorkerMessage& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!drop(m)) return false;
    // A dropped chunk no longer counts against the buffer (else the worker would drop every
    // later log once fenced chunks had filled the count).
    if (m.has_log()) outbox_log_bytes_ -= static_cast<int64_t>(m.log().data().size());
    return true;
  });
}

std::vector<int64_t> Agent::HeldAttempts() {
  std::vector<int64_t> ids;
  for (const auto& [id, at] : attempts_) ids.push_back(id);
  return ids;
}

void Agent::Forget(int64_t attempt_id) {
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) return;
  leases_.Forget(attempt_id);
  done_.push_back(std::move(it->second));
  attempts_.erase(it);
}

void Agent::ReapFinished() {
  // A forgotten attempt's thread has finished or is about to (it is cancelled, or it queued its
  // result and takes no lock after that), so joining here cannot block for long. One still
  // running (fenced, being killed) stays until it returns.
  std::erase_if(done_, [](std::unique_ptr<Attempt>& at) {
    if (!at->finished) return false;
    if (at->thread.joinable()) at->thread.join();
    return true;
  });
}

void Agent::Run() {
  std::mt19937 rng(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(time(nullptr)));
  absl::Duration backoff = absl::Milliseconds(100);
  std::thread fencer([this] { FenceLoop(); });
  struct StopFencer {
    Agent* agent;
    std::thread* thread;
    ~StopFencer() {
      {
        absl::MutexLock lock(&agent->mu_);
        agent->fence_stop_ = true;
      }
      thread->join();
    }
  } stop_fencer{this, &fencer};
  bool all_refused = true;   // every address of this cycle refused the connection
  absl::Time cycle_started = absl::Now();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_level_ >= 2) return;
      if (stop_level_ == 1 && attempts_.empty() && outbox_.empty()) return;
    }
    absl::Time started = absl::Now();
    if (address_index_ % addresses_.size() == 0) {
      all_refused = true;
      cycle_started = started;
    }
    bool registered = RunSession();
    all_refused = all_refused && !registered && last_refused_;
    // Next time the next address: after a standby's refusal, or after the leader went away (a
    // standby may be taking over). Through the list without backing off, then back off.
    ++address_index_;
    const bool cycle_done = address_index_ % addresses_.size() == 0;
    absl::MutexLock lock(&mu_);
    // No scheduler listens anywhere: none can be giving our attempts to another worker.
    if (cycle_done && all_refused) leases_.OnAllRefused(cycle_started);
    if (stop_level_ >= 2) return;
    if (stop_level_ == 1 && attempts_.empty() && outbox_.empty()) return;
    if (!cycle_done && !registered) continue;
    if (registered && absl::Now() - started > absl::Seconds(5)) backoff = absl::Milliseconds(100);
    const absl::Duration cap = ReconnectBackoffCap(options_.max_backoff, lease_);
    backoff = std::min(backoff, cap);
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    absl::Duration wait = backoff * jitter(rng);
    spdlog::info("scheduler {} unavailable; reconnecting in {}ms", options_.scheduler,
                 absl::ToInt64Milliseconds(wait));
    auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_level_ >= 2; };
    mu_.AwaitWithTimeout(absl::Condition(&stopped), wait);
    backoff = std::min(backoff * 2, cap);
  }
}

void Agent::Resume(const v1::RegisterAck& ack) {
  heartbeat_ = absl::Milliseconds(std::max<int64_t>(100, ack.heartbeat_interval_ms()));
  if (ack.lease_ms() > 0) lease_ = absl::Milliseconds(ack.lease_ms());
  scheduler_max_log_bytes_ = ack.max_log_bytes();
  const std::set<int64_t> fenced(ack.fenced_attempt_ids().begin(),
                                 ack.fenced_attempt_ids().end());
  for (int64_t id : fenced) {
    auto it = attempts_.find(id);
    if (it == attempts_.end()) continue;
    spdlog::warn("attempt={} was fenced by the scheduler; stopping and forgetting it", id);
    it->second->cancel_requested = true;
    if (it->second->child) it->second->child->Cancel();
    Forget(id);
  }
  // Heartbeats are rebuilt; results are queued again below, after their logs; the logs of an
  // attempt the scheduler reports a stored size for are queued again from there.
  DropQueued([&](const v1::WorkerMessage& m) {
    if (m.has_heartbeat() || m.has_result()) return true;
    if (!m.has_log()) return false;
    return fenced.count(m.log().attempt_id()) > 0 ||
           ack.log_offsets().count(m.log().attempt_id()) > 0;
  });
  for (const auto& [id, at] : attempts_) {
    auto off = ack.log_offsets().find(id);
    if (off == ack.log_offsets().end() || !at->log) continue;
    for (auto& c : at->log->Since(off->second)) {
      v1::WorkerMessage m;
      *m.mutable_log() = std::move(c);
      PushLocked(std::move(m));
    }
  }
  for (const auto& [id, at] : attempts_) {
    if (!at->finished) continue;
    v1::WorkerMessage m;
    *m.mutable_result() = at->result;
    outbox_.push_back(std::move(m));
  }
}

bool Agent::RunSession() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  args.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!options_.tls_ca_pem.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options_.tls_ca_pem;
    ssl.pem_cert_chain = options_.tls_cert_pem;
    ssl.pem_private_key = options_.tls_key_pem;
    creds = grpc::SslCredentials(ssl);
  }
  auto channel = grpc::CreateCustomChannel(address(), creds, args);
  auto stub = v1::WorkerService::NewStub(channel);
  grpc::ClientContext ctx;
  if (!options_.token.empty()) ctx.AddMetadata("authorization", "Bearer " + options_.token);
  auto stream = stub->Session(&ctx);

  v1::WorkerMessage reg_msg;
  v1::Register* reg = reg_msg.mutable_register_();
  reg->set_name(options_.name);
  reg->set_slots(options_.slots);
  for (const auto& p : options_.pools) reg->add_pools(p);
  reg->set_version(common::Version());
  {
    absl::MutexLock lock(&mu_);
    for (int64_t id : HeldAttempts()) reg->add_running_attempt_ids(id);
    session_ctx_ = &ctx;
    silenced_ctx_ = nullptr;
    session_dead_ = false;
  }
  auto clear_ctx = [&] {
    absl::MutexLock lock(&mu_);
    session_ctx_ = nullptr;
  };
  v1::SchedulerMessage first;
  last_refused_ = false;
  const absl::Time reg_sent = absl::Now();
  const bool answered = stream->Write(reg_msg) && stream->Read(&first);
  if (!answered || !first.has_ack()) {
    if (answered) ctx.TryCancel();   // a first message that is not an ack (a failed call has ended)
    grpc::Status st = stream->Finish();
    if (st.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
        st.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
        st.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
      spdlog::error("scheduler {} refused the worker: {}", address(), st.error_message());
    } else if (st.error_code() == grpc::StatusCode::UNAVAILABLE && addresses_.size() > 1) {
      spdlog::debug("scheduler {} unavailable: {}", address(), st.error_message());   // a standby
    } else if (!st.ok()) {
      spdlog::warn("session with scheduler {} failed: {}", address(), st.error_message());
    }
    // Nobody there hands out work: no scheduler listens, or a standby answers (it leads only
    // after recovering, and then gives every attempt a whole lease).
    last_refused_ = st.error_code() == grpc::StatusCode::UNAVAILABLE &&
                    (absl::StrContains(absl::AsciiStrToLower(st.error_message()),
                                       "connection refused") ||
                     common::IsNotLeadingRefusal(st.error_message()));
    clear_ctx();
    return false;
  }
  spdlog::info("connected to scheduler {} as {} ({} slots)", address(), options_.name,
               options_.slots);
  {
    absl::MutexLock lock(&mu_);
    Resume(first.ack());
    std::vector<int64_t> kept;
    for (const auto& [id, at] : attempts_) {
      if (!at->finished) kept.push_back(id);
    }
    leases_.OnRegistered(reg_sent, lease_, first.ack().acks_heartbeats(), kept);
  }

  std::thread reader([&] {
    v1::SchedulerMessage m;
    while (stream->Read(&m)) HandleMessage(m);
    absl::MutexLock lock(&mu_);
    session_dead_ = true;
  });

  absl::Time next_heartbeat = absl::Now();
  while (true) {
    v1::WorkerMessage out;
    bool have = false;
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return session_dead_ || stop_level_ >= 2 || !outbox_.empty() ||
               (stop_level_ == 1 && attempts_.empty());
      };
      mu_.AwaitWithDeadline(absl::Condition(&wake), next_heartbeat);
      ReapFinished();
      if (session_dead_ || stop_level_ >= 2) break;
      if (stop_level_ == 1 && attempts_.empty() && outbox_.empty()) break;
      if (absl::Now() >= next_heartbeat) {
        v1::WorkerMessage hb;
        for (int64_t id : HeldAttempts()) hb.mutable_heartbeat()->add_running_attempt_ids(id);
        hb.mutable_heartbeat()->set_seq(leases_.OnHeartbeatSent(absl::Now()));
        outbox_.push_front(std::move(hb));
        next_heartbeat = absl::Now() + heartbeat_;
      }
      if (!outbox_.empty()) {
        out = std::move(outbox_.front());
        outbox_.pop_front();
        have = true;
        if (out.has_log()) outbox_log_bytes_ -= static_cast<int64_t>(out.log().data().size());
      }
    }
    if (!have) continue;
    // A result written here may still be lost with the connection: it is kept (and sent again
    // on the next session) until its ResultAck.
    if (!stream->Write(out)) {
      absl::MutexLock lock(&mu_);
      if (out.has_log()) PushLocked(std::move(out));   // requeued from the stored offset anyway
      break;
    }
  }
  ctx.TryCancel();
  reader.join();
  (void)stream->Finish();
  clear_ctx();
  return true;
}

void Agent::HandleMessage(const v1::SchedulerMessage& msg) {
  if (msg.has_assign()) {
    StartAttempt(msg.assign());
  } else if (msg.has_probe()) {
    // A look at the data root, answered at once: no slot, no child (worker/probe.h).
    v1::WorkerMessage m;
    *m.mutable_probe_result() = RunProbe(msg.probe(), options_.data_root, absl::Now());
    Push(std::move(m));
  } else if (msg.has_heartbeat_ack()) {
    absl::MutexLock lock(&mu_);
    leases_.OnHeartbeatAck(msg.heartbeat_ack().seq());
  } else if (msg.has_result_ack()) {
    absl::MutexLock lock(&mu_);
    const int64_t id = msg.result_ack().attempt_id();
    auto it = attempts_.find(id);
    if (it == attempts_.end() || !it->second->finished) return;
    if (!msg.result_ack().recorded()) {
      spdlog::warn("attempt={}: the scheduler did not record its result (fenced or unrecordable)",
                   id);
    }
    Forget(id);
  } else if (msg.has_cancel()) {
    absl::MutexLock lock(&mu_);
    auto it = attempts_.find(msg.cancel().attempt_id());
    if (it == attempts_.end()) return;
    spdlog::info("attempt={} cancelled by the scheduler ({})", msg.cancel().attempt_id(),
                 msg.cancel().reason());
    it->second->cancel_requested = true;
    if (it->second->child) it->second->child->Cancel();
    // The scheduler has ended the attempt: a result it has not taken yet is not wanted.
    if (it->second->finished) Forget(msg.cancel().attempt_id());
  }
}

void Agent::StartAttempt(const v1::Assignment& a) {
  absl::MutexLock lock(&mu_);
  if (attempts_.count(a.attempt_id())) return;   // duplicate delivery
  auto at = std::make_unique<Attempt>();
  at->assignment = a;
  int64_t cap = options_.max_log_bytes;
  if (scheduler_max_log_bytes_ > 0 && (cap == 0 || scheduler_max_log_bytes_ < cap)) {
    cap = scheduler_max_log_bytes_;
  }
  at->log = std::make_unique<AttemptLog>(
      a.attempt_id(),
      options_.work_dir.empty() ? ""
                                : absl::StrCat(options_.work_dir, "/attempt-", a.attempt_id(),
                                               ".log"),
      std::vector<std::string>(a.mask().begin(), a.mask().end()), cap);
  Attempt* raw = at.get();
  attempts_[a.attempt_id()] = std::move(at);
  leases_.OnAssigned(a.attempt_id(), absl::Now());
  spdlog::info("dag={} run={} task={} attempt={} try={} starting ({})", a.dag_id(), a.run_id(),
               a.task_id(), a.attempt_id(), a.try_number(), a.type());
  try {
    if (InjectThreadStartFailure()) {
      throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                              "injected by DE_WORKER_TEST_THREAD_FAILURES");
    }
    raw->thread = std::thread([this, raw] { RunAttempt(raw); });
  } catch (const std::system_error& e) {
    FailUnstarted(raw, absl::StrCat("the worker cannot start a thread for the attempt: ",
                                    e.what()));
  }
}

void Agent::FailUnstarted(Attempt* at, const std::string& error) {
  const v1::Assignment& a = at->assignment;
  spdlog::error("dag={} run={} task={} attempt={} failed: {}", a.dag_id(), a.run_id(),
                a.task_id(), a.attempt_id(), error);
  for (auto& c : at->log->Feed(absl::StrCat("[worker] ", error, "\n"))) {
    v1::WorkerMessage m;
    *m.mutable_log() = std::move(c);
    PushLocked(std::move(m));
  }
  for (auto& c : at->log->Finish()) {
    v1::WorkerMessage m;
    *m.mutable_log() = std::move(c);
    PushLocked(std::move(m));
  }
  at->result.set_attempt_id(a.attempt_id());
  at->result.set_success(false);
  at->result.set_exit_code(-1);
  at->result.set_error(at->log->MaskAll(error));
  at->result.set_log_bytes(at->log->size());
  at->finished = true;
  v1::WorkerMessage m;
  *m.mutable_result() = at->result;
  outbox_.push_back(std::move(m));
}

void Agent::RunAttempt(Attempt* at) {
  v1::TaskResult result = Execute(at);
  const v1::Assignment& a = at->assignment;
  spdlog::info("dag={} run={} task={} attempt={} {}{}", a.dag_id(), a.run_id(), a.task_id(),
               a.attempt_id(), result.success() ? "succeeded" : "failed",
               result.error().empty() ? "" : ": " + at->log->MaskAll(result.error()));
  Finish(at, std::move(result));
}

void Agent::Finish(Attempt* at, v1::TaskResult result) {
  absl::MutexLock lock(&mu_);
  // The log's held-back bytes (mask, cap tail) go out before the result, which counts them.
  for (auto& c : at->log->Finish()) {
    v1::WorkerMessage m;
    *m.mutable_log() = std::move(c);
    PushLocked(std::move(m));
  }
  result.set_error(at->log->MaskAll(result.error()));
  result.set_summary(at->log->MaskAll(result.summary()));
  result.set_attempt_id(at->assignment.attempt_id());
  result.set_log_bytes(at->log->size());
  at->result = std::move(result);
  at->finished = true;
  leases_.Forget(at->assignment.attempt_id());   // nothing left to stop
  // Forgotten meanwhile (fenced): the result is not wanted.
  auto it = attempts_.find(at->assignment.attempt_id());
  if (it == attempts_.end() || it->second.get() != at) return;
  v1::WorkerMessage m;
  *m.mutable_result() = at->result;
  outbox_.push_back(std::move(m));
}

void Agent::SendLog(Attempt* at, std::string_view text) {
  absl::MutexLock lock(&mu_);
  for (auto& c : at->log->Feed(text)) {
    v1::WorkerMessage m;
    *m.mutable_log() = std::move(c);
    PushLocked(std::move(m));
  }
}

}  // namespace de::worker
