// The worker's session with the scheduler: registers, receives assignments, runs each attempt in
// a child process (noop inline), streams logs and results, heartbeats, answers data-arrival
// probes at once on the reader thread (worker/probe.h: no slot, no child), and reconnects with a
// backoff that stays inside the scheduler's lease (so its attempts are not declared lost while it
// is merely reconnecting). Attempts keep running while the scheduler is away. Each result is
// kept until the scheduler acknowledges it (ResultAck) and sent again on every new session until
// then; each attempt's log is spooled and resent from the offset the scheduler has stored, so a
// connection that dies swallows neither. An attempt whose thread cannot start fails with the
// reason; the worker stays up. Logs are capped per attempt (AttemptLog).
// Thread-safe: Run() on one thread, Stop() from any.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "de/v1/worker.grpc.pb.h"
#include "worker/attempt_log.h"
#include "worker/lease_keeper.h"
#include "worker/runner.h"

namespace de::worker {

// The longest pause between two connection attempts: `max_backoff`, but at most a quarter of
// the scheduler's lease, so a worker is back before its attempts' leases lapse (at least 50 ms).
absl::Duration ReconnectBackoffCap(absl::Duration max_backoff, absl::Duration lease);

// Test hook: when DE_WORKER_TEST_THREAD_FAILURES=N is set, the first N attempt threads fail to
// start (as std::thread does when the system is out of threads).
bool InjectThreadStartFailure();

struct AgentOptions {
  // HOST:PORT, or several separated by commas (schedulers sharing one PostgreSQL: the worker
  // goes from one to the next until the leader takes it; standbys refuse it).
  std::string scheduler = "127.0.0.1:7070";
  std::string name;
  int slots = 4;
  std::vector<std::string> pools;          // empty = default
  std::string data_root = ".";             // built-in tasks resolve relative paths here
  std::string work_dir;                    // scratch for params/result files
  std::string self_exe;                    // this binary, to run built-in tasks in a child
  absl::Duration max_backoff = absl::Seconds(5);   // and at most a quarter of the lease
  int64_t max_log_bytes = int64_t{100} << 20;      // per attempt; 0 = no cap (see LogCap)
  std::string token;                       // bearer token; empty = none
  std::string tls_ca_pem;                  // non-empty = TLS, trusting this CA
  std::string tls_cert_pem, tls_key_pem;   // client certificate (with TLS), optional
};

class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();
  // Runs until Stop(): connects, serves, reconnects.
  void Run();
  // Drain: take no new work, let running attempts finish and report, then Run() returns.
  // A second call stops at once (running attempts are left to the scheduler's lease).
  void Stop();

 private:
  // Until its result is acknowledged (or it is fenced), an attempt stays in attempts_; every
  // field but `assignment` and `thread` is guarded by Agent::mu_.
  struct Attempt {
    v1::Assignment assignment;
    std::unique_ptr<ChildProcess> child;
    bool cancel_requested = false;
    bool finished = false;                 // `result` is final and sent on every session
    v1::TaskResult result;
    std::thread thread;
    std::unique_ptr<AttemptLog> log;
  };

  bool RunSession();
  // Stops the attempts the scheduler may have given away (LeaseKeeper) and drops a session that
  // has been silent for a lease; runs beside Run() until fence_stop_.
  void FenceLoop();
  // Under mu_: one pass of FenceLoop at `now`.
  void FenceDue(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleMessage(const v1::SchedulerMessage& msg);
  void StartAttempt(const v1::Assignment& a);
  void RunAttempt(Attempt* at);
  v1::TaskResult Execute(Attempt* at);   // agent_execute.cc
  // Masks, caps and queues `text` as the attempt's next log bytes.
  void SendLog(Attempt* at, std::string_view text);
  void PushLocked(v1::WorkerMessage msg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Push(v1::WorkerMessage msg);
  void Finish(Attempt* at, v1::TaskResult result);
  // Fails an attempt that never ran (its thread could not start).
  void FailUnstarted(Attempt* at, const std::string& error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets an attempt (acknowledged or fenced): its thread is joined by ReapFinished.
  void Forget(int64_t attempt_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a RegisterAck: drops what is fenced, requeues logs from the stored offsets and every
  // kept result after them.
  void Resume(const v1::RegisterAck& ack) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the queued messages `drop` selects, crediting the queued log bytes.
  void DropQueued(const std::function<bool(const v1::WorkerMessage&)>& drop)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<int64_t> HeldAttempts() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReapFinished() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The address of the session about to start (RunSession); Run moves on after a failed one.
  const std::string& address() const { return addresses_[address_index_ % addresses_.size()]; }

  const AgentOptions options_;
  const std::vector<std::string> addresses_;   // options_.scheduler, split at commas
  size_t address_index_ = 0;                   // only Run's thread uses it
  absl::Mutex mu_;
  std::deque<v1::WorkerMessage> outbox_ ABSL_GUARDED_BY(mu_);
  int64_t outbox_log_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int64_t, std::unique_ptr<Attempt>> attempts_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Attempt>> done_ ABSL_GUARDED_BY(mu_);
  int stop_level_ ABSL_GUARDED_BY(mu_) = 0;   // 1 = draining, 2 = stop now
  bool session_dead_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration heartbeat_ ABSL_GUARDED_BY(mu_) = absl::Seconds(2);
  absl::Duration lease_ ABSL_GUARDED_BY(mu_) = absl::InfiniteDuration();   // from RegisterAck
  int64_t scheduler_max_log_bytes_ ABSL_GUARDED_BY(mu_) = 0;               // from RegisterAck
  grpc::ClientContext* session_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  grpc::ClientContext* silenced_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;   // cancelled as silent
  bool last_refused_ = false;   // the last RunSession's connection was refused (Run's thread)
  LeaseKeeper leases_ ABSL_GUARDED_BY(mu_);
  bool fence_stop_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace de::worker
