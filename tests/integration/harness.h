// Test harness for integration tests: temp DE_HOME folders, child processes (scheduler, workers,
// dectl), a gRPC client, and polling waits with deadlines (never fixed sleeps).
// Not thread-safe; one test uses one harness.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "de/v1/operator.grpc.pb.h"

namespace de::testing {

// A temporary folder removed at destruction (kept when DE_KEEP_TMP is set).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// A child process with stdout+stderr going to a file.
class Process {
 public:
  Process(std::vector<std::string> argv, const std::string& log_path,
          const std::map<std::string, std::string>& env = {});
  ~Process();   // SIGKILL + reap if still running
  pid_t pid() const { return pid_; }
  void Kill(int sig);
  // Waits for exit; returns the exit code (128+signal when killed).
  int Wait();
  bool Running();
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  bool reaped_ = false;
  int status_ = 0;
};

// Polls `cond` every 10 ms until it is true or `timeout` passes. Returns cond's last value.
bool WaitUntil(const std::function<bool()>& cond, absl::Duration timeout = absl::Seconds(30));

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);
bool FileExists(const std::string& path);
// A port that was free a moment ago (for a scheduler that must come back on the same address).
int FreePort();

// A scheduler + workers cluster for one test.
class Cluster {
 public:
  explicit Cluster(std::vector<std::string> scheduler_args = {"--lease", "1500ms",
                                                              "--heartbeat", "200ms"});
  ~Cluster();
  // Starts (or restarts) the scheduler on `listen` (default 127.0.0.1:0) and waits until it serves.
  void StartScheduler(const std::string& listen = "127.0.0.1:0");
  // Signals the scheduler and waits for it; returns its exit code (128+signal if killed).
  int KillScheduler(int sig = 9);
  // Sends `sig` to the scheduler without waiting (e.g. SIGHUP).
  void SignalScheduler(int sig) { scheduler_->Kill(sig); }
  // Starts a worker (with `extra_args` and `env` added) and waits until the scheduler lists it
  // as connected.
  Process* StartWorker(const std::string& name, int slots = 2,
                       const std::vector<std::string>& extra_args = {},
                       const std::map<std::string, std::string>& env = {});
  // Whether the scheduler lists worker `name` as connected now.
  bool WorkerConnected(const std::string& name);
  const std::string& address() const { return address_; }
  // The scheduler's HTTP address (DE_HOME/http.addr), e.g. 127.0.0.1:40123.
  std::string http_address() const;
  const std::string& home() const { return home_.path(); }
  std::string data(const std::string& rel) const { return data_ / rel; }
  v1::Operator::Stub& api() { return *stub_; }

  // dectl with --server set; returns exit code, fills output (stdout+stderr).
  int Dectl(const std::vector<std::string>& args, std::string* output);

  // Submits YAML (fails the test on validation errors).
  void Submit(const std::string& yaml);
  // Submits DAG `dag_id`: one shell task `work` that appends "ran" to data("ran") and then runs
  // until data("go") exists (a task held running while a test does something to the cluster).
  void SubmitGated(const std::string& dag_id);
  // SubmitGated, a trigger, and a wait until its task runs (data("ran") exists): the run's id.
  std::string TriggerHeld(const std::string& dag_id);
  std::string Trigger(const std::string& dag, const std::map<std::string, std::string>& conf = {});
  v1::Run GetRun(const std::string& run_id);
  // Waits until the run reaches a terminal state; returns it.
  v1::Run WaitRunDone(const std::string& run_id, absl::Duration timeout = absl::Seconds(60));
  std::string TaskLog(const std::string& run_id, const std::string& task, int try_number = 0);
  std::string Logs() const;   // scheduler + worker logs, for failure messages

 private:
  std::vector<std::string> scheduler_args_;
  TempDir home_;
  TempDir data_;
  std::string address_;
  std::unique_ptr<Process> scheduler_;
  int scheduler_starts_ = 0;
  std::vector<std::unique_ptr<Process>> workers_;
  std::unique_ptr<v1::Operator::Stub> stub_;
};

}  // namespace de::testing
