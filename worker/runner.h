// Runs one task attempt as a child process in its own session/process group, with merged
// stdout+stderr delivered in order, a timeout, and cancel. Cancel() is thread-safe; Wait() is
// called by one thread at most once and is the thread that runs the output callback.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace de::worker {

// What to run.
struct ProcessSpec {
  // argv[0] is the program: a path (contains '/') or a name looked up in PATH (the PATH of the
  // child's environment, i.e. `env["PATH"]` when given, else the worker's).
  std::vector<std::string> argv;
  // Added to (and overriding) the worker's own environment.
  std::map<std::string, std::string> env;
  // Working directory of the child; empty = the worker's.
  std::string cwd;
  // Wall-clock limit; zero = none. On expiry the process group gets SIGTERM, then SIGKILL after
  // `kill_grace`.
  absl::Duration timeout = absl::ZeroDuration();
  // Time between SIGTERM and SIGKILL on timeout or cancel.
  absl::Duration kill_grace = absl::Seconds(2);
  // Written to the child's /proc/PID/oom_score_adj (best effort; 0 = leave it): a task that blows
  // up its memory is what the kernel's OOM killer picks, not the worker.
  int oom_score_adj = 800;
};

// How it ended.
struct ProcessResult {
  int exit_code = -1;       // the exit status when the child exited normally, else -1
  int term_signal = 0;      // the signal that killed the child, else 0
  bool timed_out = false;   // the timeout fired (the child was signalled because of it)
  bool cancelled = false;   // Cancel() was called before the child ended
  int64_t log_bytes = 0;    // bytes delivered to the output callback
  absl::Duration duration;  // from start to reaping the child
  // Empty on success; else a human sentence: "exit code 3", "killed by signal 11 (Segmentation
  // fault)", "timed out after 5s", "cancelled".
  std::string error;

  bool ok() const { return exit_code == 0 && !timed_out && !cancelled; }
};

// One running child. The child is a session leader (setsid), so it and everything it spawns
// (unless they start their own session) form one process group that timeout and Cancel() kill.
// When the child itself exits, whatever is left of its group is killed with SIGKILL: nothing of
// an attempt outlives it. The destructor cancels and reaps a child that was never waited for.
class ChildProcess {
 public:
  // Called with successive chunks of the child's merged stdout/stderr, in order, on the thread
  // that calls Wait(). Chunks are arbitrary slices (not lines).
  using OutputFn = std::function<void(std::string_view chunk)>;

  // Starts the child. Fails (and nothing runs) when argv is empty, the program cannot be found
  // or executed ("cannot execute 'foo': No such file or directory"), or `cwd` is not a
  // directory. stdin is /dev/null; file descriptors other than 0-2 are not inherited; signal
  // mask and dispositions are reset to defaults.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const ProcessSpec& spec,
                                                             OutputFn on_output);

  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Asks the child to stop: SIGTERM to its process group now, SIGKILL after the grace period
  // (enforced by Wait()). Thread-safe, idempotent; returns at once. No effect after the child
  // has been reaped.
  void Cancel();

  // Delivers output, enforces the timeout and cancel, and blocks until the child has exited,
  // been reaped, and all its output has been delivered. Call once; later calls return the same
  // result. Output must be consumed for the child to make progress (the pipe is bounded), so a
  // caller that starts a child should call Wait() promptly.
  ProcessResult Wait();

  int pid() const { return pid_; }

 private:
  ChildProcess(int pid, int pidfd, int out_fd, int wake_fd, const ProcessSpec& spec,
               OutputFn on_output);
  // Sends `sig` to the child's process group; safe until the child has been reaped.
  void SignalGroup(int sig);

  const int pid_;
  int pidfd_;    // pollable handle of the child (-1 if the kernel has none)
  int out_fd_;   // read end of the merged output pipe
  int wake_fd_;  // eventfd: Cancel() wakes Wait()
  const absl::Duration timeout_;
  const absl::Duration kill_grace_;
  const absl::Time started_;
  OutputFn on_output_;

  std::atomic<bool> cancel_requested_{false};
  absl::Mutex mu_;  // orders signals against reaping
  bool reaped_ ABSL_GUARDED_BY(mu_) = false;
  bool waited_ = false;   // only touched by the Wait() thread
  ProcessResult result_;  // valid once waited_
};

// Convenience: Start + Wait. A start failure comes back as the error status.
absl::StatusOr<ProcessResult> RunProcess(const ProcessSpec& spec, ChildProcess::OutputFn on_output);

}  // namespace de::worker
