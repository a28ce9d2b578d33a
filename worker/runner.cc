#include "worker/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace de::worker {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

std::string ErrnoText(int err) { return strerrordesc_np(err) ? strerrordesc_np(err) : "error"; }

absl::Status ErrnoStatus(int err, absl::string_view what) {
  std::string msg = absl::StrCat(what, ": ", ErrnoText(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    case EMFILE:
    case ENFILE:
    case EAGAIN:
    case ENOMEM:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

void CloseFd(int& fd) {
  if (fd >= 0) {
    // close() must not be retried on EINTR on Linux: the descriptor is gone either way.
    ::close(fd);
    fd = -1;
  }
}

// The worker's environment with `overrides` applied, as "KEY=VALUE" strings.
std::vector<std::string> BuildEnv(const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  for (const auto& [k, v] : overrides) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(absl::StrCat(k, "=", v));
  return out;
}

// Finds `name` in the PATH of the child's environment.
absl::StatusOr<std::string> ResolveProgram(const std::string& name,
                                           const std::vector<std::string>& env) {
  if (name.empty()) return absl::InvalidArgumentError("cannot execute '': empty program name");
  if (name.find('/') != std::string::npos) return name;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& e : env) {
    if (e.rfind("PATH=", 0) == 0) {
      path = e.substr(5);
      break;
    }
  }
  bool denied = false;
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate =
        dir.empty() ? name : absl::StrCat(dir, dir.back() == '/' ? "" : "/", name);
    struct stat st;
    if (::stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    denied = true;
  }
  if (denied) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot execute '", name, "': permission denied"));
  }
  return absl::NotFoundError(absl::StrCat("cannot execute '", name, "': not found in PATH"));
}

int PidfdOpen(int pid) {
#ifdef SYS_pidfd_open
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
  }
#endif
  return -1;
}

std::string SignalText(int sig) {
  const char* d = sigdescr_np(sig);
  return absl::StrCat("killed by signal ", sig, d ? absl::StrCat(" (", d, ")") : "");
}

// RAII holders for the posix_spawn attribute objects.
struct SpawnAttr {
  posix_spawnattr_t attr;
  SpawnAttr() { posix_spawnattr_init(&attr); }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
};
struct SpawnActions {
  posix_spawn_file_actions_t fa;
  SpawnActions() { posix_spawn_file_actions_init(&fa); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&fa); }
};

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(const ProcessSpec& spec,
                                                                  OutputFn on_output) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("cannot execute: empty argv");
  std::vector<std::string> env = BuildEnv(spec.env);
  auto program = ResolveProgram(spec.argv[0], env);
  if (!program.ok()) return program.status();
  if (!spec.cwd.empty()) {
    struct stat st;
    if (::stat(spec.cwd.c_str(), &st) != 0) {
      return ErrnoStatus(errno, absl::StrCat("working directory '", spec.cwd, "'"));
    }
    if (!S_ISDIR(st.st_mode)) {
      return absl::NotFoundError(
          absl::StrCat("working directory '", spec.cwd, "': not a directory"));
    }
  }

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoStatus(errno, "cannot create output pipe");
  int read_fd = pipe_fds[0], write_fd = pipe_fds[1];
  int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    int err = errno;
    CloseFd(read_fd);
    CloseFd(write_fd);
    return ErrnoStatus(err, "cannot create eventfd");
  }

  SpawnAttr attr;
  sigset_t empty_mask, all_signals;
  sigemptyset(&empty_mask);
  sigfillset(&all_signals);
  sigdelset(&all_signals, SIGKILL);
  sigdelset(&all_signals, SIGSTOP);
  posix_spawnattr_setsigmask(&attr.attr, &empty_mask);
  posix_spawnattr_setsigdefault(&attr.attr, &all_signals);
  posix_spawnattr_setflags(&attr.attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  SpawnActions actions;
  posix_spawn_file_actions_adddup2(&actions.fa, write_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions.fa, write_fd, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions.fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions.fa, spec.cwd.c_str());
  posix_spawn_file_actions_addclosefrom_np(&actions.fa, STDERR_FILENO + 1);

  std::vector<char*> argv_ptrs;
  for (const auto& a : spec.argv) argv_ptrs.push_back(const_cast<char*>(a.c_str()));
  argv_ptrs.push_back(nullptr);
  std::vector<char*> env_ptrs;
  for (const auto& e : env) env_ptrs.push_back(const_cast<char*>(e.c_str()));
  env_ptrs.push_back(nullptr);

  pid_t pid = -1;
  // glibc's posix_spawn runs the child with CLONE_VFORK and reports exec errors as its result.
  int err = ::posix_spawn(&pid, program->c_str(), &actions.fa, &attr.attr, argv_ptrs.data(),
                          env_ptrs.data());
  CloseFd(write_fd);
  if (err != 0) {
    CloseFd(read_fd);
    CloseFd(wake_fd);
    return ErrnoStatus(err, absl::StrCat("cannot execute '", spec.argv[0], "'"));
  }
  if (spec.oom_score_adj != 0) {
    std::string path = absl::StrCat("/proc/", pid, "/oom_score_adj");
    std::string value = absl::StrCat(spec.oom_score_adj);
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      (void)!::write(fd, value.data(), value.size());
      ::close(fd);
    }
  }
  ::fcntl(read_fd, F_SETFL, ::fcntl(read_fd, F_GETFL) | O_NONBLOCK);
  int pidfd = PidfdOpen(pid);
  return std::unique_ptr<ChildProcess>(
      new ChildProcess(pid, pidfd, read_fd, wake_fd, spec, std::move(on_output)));
}

ChildProcess::ChildProcess(int pid, int pidfd, int out_fd, int wake_fd, const ProcessSpec& spec,
                           OutputFn on_output)
    : pid_(pid),
      pidfd_(pidfd),
      out_fd_(out_fd),
      wake_fd_(wake_fd),
      timeout_(spec.timeout),
      kill_grace_(spec.kill_grace),
      started_(absl::Now()),
      on_output_(std::move(on_output)) {
  if (!on_output_) on_output_ = [](std::string_view) {};
}

ChildProcess::~ChildProcess() {
  if (!waited_) {
    on_output_ = [](std::string_view) {};  // the caller's sink may be gone
    Cancel();
    Wait();
  }
  CloseFd(pidfd_);
  CloseFd(out_fd_);
  CloseFd(wake_fd_);
}

void ChildProcess::SignalGroup(int sig) {
  absl::MutexLock lock(&mu_);
  // The child is a session (and so process group) leader: its pid is the group id. Until it is
  // reaped, the id cannot be reused, so the signal cannot hit a stranger.
  if (!reaped_) ::kill(-pid_, sig);
}

void ChildProcess::Cancel() {
  if (cancel_requested_.exchange(true)) return;
  SignalGroup(SIGTERM);
  uint64_t one = 1;
  ssize_t n;
  do {
    n = ::write(wake_fd_, &one, sizeof(one));
  } while (n < 0 && errno == EINTR);
}

ProcessResult ChildProcess::Wait() {
  if (waited_) return result_;
  using Clock = std::chrono::steady_clock;
  const SteadyTime start = Clock::now();
  const auto grace = absl::ToChronoNanoseconds(kill_grace_);
  std::optional<SteadyTime> timeout_at;
  if (timeout_ > absl::ZeroDuration()) timeout_at = start + absl::ToChronoNanoseconds(timeout_);
  std::optional<SteadyTime> kill_at;      // SIGKILL the group at this time (after SIGTERM)
  std::optional<SteadyTime> drain_until;  // set once the child exited: stop reading then
  bool stopping = false;                  // SIGTERM sent (timeout or cancel)
  bool exited = false;
  bool eof = false;
  int status = 0;
  bool status_known = false;
  ProcessResult r;
  char buf[64 * 1024];

  while (true) {
    SteadyTime now = Clock::now();
    if (!exited && !stopping && cancel_requested_.load()) {
      // Cancel() already sent SIGTERM.
      stopping = true;
      r.cancelled = true;
      kill_at = now + grace;
    }
    if (!exited && !stopping && timeout_at && now >= *timeout_at) {
      stopping = true;
      r.timed_out = true;
      SignalGroup(SIGTERM);
      kill_at = now + grace;
    }
    if (!exited && kill_at && now >= *kill_at) {
      SignalGroup(SIGKILL);
      kill_at.reset();
    }
    if (!exited) {
      siginfo_t info;
      memset(&info, 0, sizeof(info));
      int rc;
      do {
        rc = ::waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT);
      } while (rc < 0 && errno == EINTR);
      bool gone = (rc == 0 && info.si_pid == pid_) || (rc < 0 && errno == ECHILD);
      if (gone) {
        exited = true;
        if (rc == 0) {
          // The zombie still holds the group id: kill whatever it left behind, then reap.
          SignalGroup(SIGKILL);
          pid_t w;
          do {
            w = ::waitpid(pid_, &status, 0);
          } while (w < 0 && errno == EINTR);
          status_known = (w == pid_);
        }
        {
          absl::MutexLock lock(&mu_);
          reaped_ = true;
        }
        r.duration = absl::Now() - started_;
        // Members of the group are dead now; only a process that escaped into its own session
        // can keep the pipe open. Bound how long we wait for its EOF.
        drain_until = Clock::now() +
                      std::max(grace, std::chrono::nanoseconds(std::chrono::milliseconds(500)));
        now = Clock::now();
      }
    }
    if (exited && (eof || now >= *drain_until)) break;

    // Sleep until output, child exit, Cancel(), or the next deadline.
    std::optional<SteadyTime> next;
    auto consider = [&next](const std::optional<SteadyTime>& t) {
      if (t && (!next || *t < *next)) next = t;
    };
    if (!exited) {
      if (!stopping) consider(timeout_at);
      consider(kill_at);
      if (pidfd_ < 0) consider(now + std::chrono::milliseconds(10));  // no pidfd: poll waitid
    } else {
      consider(drain_until);
    }
    int timeout_ms = -1;
    if (next) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*next - now).count() + 1;
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left, 0, 60'000));
    }
    pollfd fds[3];
    int nfds = 0;
    int out_idx = -1, pid_idx = -1, wake_idx = -1;
    if (!eof) {
      out_idx = nfds;
      fds[nfds++] = {out_fd_, POLLIN, 0};
    }
    if (!exited && pidfd_ >= 0) {
      pid_idx = nfds;
      fds[nfds++] = {pidfd_, POLLIN, 0};
    }
    if (!exited && !stopping) {
      wake_idx = nfds;
      fds[nfds++] = {wake_fd_, POLLIN, 0};
    }
    int n = ::poll(fds, nfds, timeout_ms);
    if (n < 0) continue;  // EINTR (nothing else is expected); recompute deadlines
    if (wake_idx >= 0 && (fds[wake_idx].revents & POLLIN)) {
      uint64_t v;
      while (::read(wake_fd_, &v, sizeof(v)) < 0 && errno == EINTR) {
      }
    }
    if (out_idx >= 0 && fds[out_idx].revents != 0) {
      // Read what is there (bounded, so deadlines stay responsive under a flood).
      for (int i = 0; i < 16; ++i) {
        ssize_t got = ::read(out_fd_, buf, sizeof(buf));
        if (got > 0) {
          r.log_bytes += got;
          on_output_(std::string_view(buf, static_cast<size_t>(got)));
          continue;
        }
        if (got == 0) {
          eof = true;
        } else if (errno == EINTR) {
          continue;
        } else if (errno != EAGAIN) {
          eof = true;  // unexpected read error: treat as end of output
        }
        break;
      }
    }
    (void)pid_idx;  // readiness is picked up by waitid() at the top of the loop
  }

  if (status_known && WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (status_known && WIFSIGNALED(status)) {
    r.term_signal = WTERMSIG(status);
  }
  if (r.timed_out) {
    r.error = absl::StrCat("timed out after ", absl::FormatDuration(timeout_));
  } else if (r.cancelled) {
    r.error = "cancelled";
  } else if (!status_known) {
    r.error = "exit status unknown (child reaped elsewhere)";
  } else if (r.term_signal != 0) {
    r.error = SignalText(r.term_signal);
  } else if (r.exit_code != 0) {
    r.error = absl::StrCat("exit code ", r.exit_code);
  }
  result_ = r;
  waited_ = true;
  return result_;
}

absl::StatusOr<ProcessResult> RunProcess(const ProcessSpec& spec,
                                         ChildProcess::OutputFn on_output) {
  auto child = ChildProcess::Start(spec, std::move(on_output));
  if (!child.ok()) return child.status();
  return (*child)->Wait();
}

}  // namespace de::worker
