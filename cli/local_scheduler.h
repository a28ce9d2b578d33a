// An in-process scheduler and worker on a private, temporary DE_HOME, for `dectl dag test`: the
// scheduler core (server/sched) on its own SQLite file, and a worker agent (worker/agent) in a
// thread of this process, connected to it over a unix socket inside that home. Built-in tasks
// and shell commands run in child processes exactly as under de-worker (this program must answer
// `PROGRAM task ...` and `PROGRAM __guard ...` as de-worker does: see cli/main.cc).
// Nothing listens on the network, and nothing of the user's DE_HOME or scheduler is read or
// written; DE_HOME in this process's environment (which the tasks inherit) is the home while
// it runs. The scheduler's and the agent's log lines go to HOME/dag-test.log.
// Not thread-safe: one thread drives it; the scheduler and the agent run their own threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/sched/scheduler.h"
#include "server/vault/vault.h"

namespace spdlog {
class logger;
}
namespace grpc {
class Server;
}
namespace de::api {
class WorkerSessionService;
}
namespace de::worker {
class Agent;
}

namespace de::cli {

struct LocalSchedulerOptions {
  std::string data_root;   // the worker's data root (made absolute)
  int slots = 4;           // tasks run at once
  std::string tmp_dir;     // where the home is made; empty: $TMPDIR, else /tmp
  std::string self_exe;    // runs the built-in tasks; empty: /proc/self/exe
};

class LocalScheduler {
 public:
  // Makes the home (HOME = TMP/de-dag-test-XXXXXX, mode 0700) and starts the scheduler (no cron
  // runs, waits on other DAGs count as met: see SchedulerOptions) and one worker.
  static absl::StatusOr<std::unique_ptr<LocalScheduler>> Start(LocalSchedulerOptions options);
  ~LocalScheduler();   // Stop()
  LocalScheduler(const LocalScheduler&) = delete;
  LocalScheduler& operator=(const LocalScheduler&) = delete;

  sched::Scheduler& scheduler() { return *scheduler_; }
  vault::Vault& vault() { return *vault_; }
  const std::string& home() const { return home_; }
  std::string log_file() const { return home_ + "/dag-test.log"; }

  // Stops the worker (attempts still running are killed), the session server and the scheduler,
  // and restores the process's logger. Idempotent. The home stays (RemoveHome).
  void Stop();
  // Deletes the home and everything in it (after Stop).
  absl::Status RemoveHome();

 private:
  LocalScheduler() = default;
  absl::Status Init(LocalSchedulerOptions options);

  std::string home_;
  std::unique_ptr<vault::Vault> vault_;
  std::unique_ptr<sched::Scheduler> scheduler_;
  std::unique_ptr<api::WorkerSessionService> sessions_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<worker::Agent> agent_;
  std::thread agent_thread_;
  std::shared_ptr<spdlog::logger> previous_logger_;   // restored by Stop
  std::optional<std::string> previous_de_home_;       // DE_HOME is the home meanwhile
  bool de_home_set_ = false;
  bool scheduler_started_ = false;
  bool stopped_ = false;
};

}  // namespace de::cli
