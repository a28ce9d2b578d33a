// The worker's session with the scheduler: registers, receives assignments, runs each attempt in
// a child process (noop inline), streams logs and results, heartbeats, answers data-arrival
// probes at once on the reader thread (worker/probe.h: no slot, no child), and reconnects with
// backoff. Attempts keep running while the scheduler is away; their results are delivered when
// the session is back. Thread-safe: Run() on one thread, Stop() from any.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "de/v1/worker.grpc.pb.h"
#include "worker/log_mask.h"
#include "worker/runner.h"

namespace de::worker {

struct AgentOptions {
  std::string scheduler = "127.0.0.1:7070";
  std::string name;
  int slots = 4;
  std::vector<std::string> pools;          // empty = default
  std::string data_root = ".";             // built-in tasks resolve relative paths here
  std::string work_dir;                    // scratch for params/result files
  std::string self_exe;                    // this binary, to run built-in tasks in a child
  absl::Duration max_backoff = absl::Seconds(5);
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
  struct Attempt {
    v1::Assignment assignment;
    std::unique_ptr<ChildProcess> child;   // guarded by Agent::mu_
    bool cancel_requested = false;
    bool finished = false;                 // result queued
    std::thread thread;
    int64_t log_offset = 0;                // only the attempt's thread touches it
    LogMask mask;                          // the assignment's secrets; the attempt's thread only
  };

  bool RunSession();
  void HandleMessage(const v1::SchedulerMessage& msg);
  void StartAttempt(const v1::Assignment& a);
  void RunAttempt(Attempt* at);
  v1::TaskResult Execute(Attempt* at);
  // Queues `data` (already masked) as the attempt's next log chunk; nothing when empty.
  void SendLog(Attempt* at, std::string data);
  void Push(v1::WorkerMessage msg);
  void Finish(int64_t attempt_id, v1::TaskResult result);
  std::vector<int64_t> HeldAttempts() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReapFinished() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const AgentOptions options_;
  absl::Mutex mu_;
  std::deque<v1::WorkerMessage> outbox_ ABSL_GUARDED_BY(mu_);
  int64_t outbox_log_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int64_t, std::unique_ptr<Attempt>> attempts_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Attempt>> done_ ABSL_GUARDED_BY(mu_);
  int stop_level_ ABSL_GUARDED_BY(mu_) = 0;   // 1 = draining, 2 = stop now
  bool session_dead_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration heartbeat_ ABSL_GUARDED_BY(mu_) = absl::Seconds(2);
  grpc::ClientContext* session_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace de::worker
