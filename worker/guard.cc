#include "worker/guard.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <vector>

namespace de::worker {
namespace {

// The worker died: take the whole group (the task and everything it started) down with us.
void OnParentDeath(int) { kill(0, SIGKILL); }

volatile sig_atomic_t g_terminate = 0;   // the runner sent SIGTERM (cancel or timeout)
void OnTerminate(int) { g_terminate = 1; }

// Every process whose parent chain leads to `root` (from /proc), except `root`.
std::vector<pid_t> Descendants(pid_t root, bool other_sessions_only) {
  std::map<pid_t, pid_t> parent;
  std::map<pid_t, pid_t> session;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return {};
  while (dirent* e = readdir(proc)) {
    char* end = nullptr;
    const long pid = strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE* f = fopen(path, "re");
    if (f == nullptr) continue;
    char buf[512];
    const size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    // "pid (comm) state ppid pgrp session ...": comm may hold anything, so parse after the last ')'.
    const char* rp = strrchr(buf, ')');
    char state = 0;
    long ppid = 0, pgrp = 0, sid = 0;
    if (rp == nullptr || sscanf(rp + 1, " %c %ld %ld %ld", &state, &ppid, &pgrp, &sid) != 4) continue;
    parent[static_cast<pid_t>(pid)] = static_cast<pid_t>(ppid);
    session[static_cast<pid_t>(pid)] = static_cast<pid_t>(sid);
  }
  closedir(proc);
  const pid_t own_session = getsid(0);
  std::vector<pid_t> out;
  for (const auto& [pid, ppid] : parent) {
    if (pid == root) continue;
    for (pid_t p = ppid; p > 1;) {
      if (p == root) {
        if (!other_sessions_only || session[pid] != own_session) out.push_back(pid);
        break;
      }
      auto it = parent.find(p);
      if (it == parent.end()) break;
      p = it->second;
    }
  }
  return out;
}

// After the task: kills and reaps whatever of it is left, including processes that left its
// process group or session (setsid): as the subreaper they became our children when their
// parents died, or are descendants of those that are.
void KillAndReapRest() {
  while (true) {
    for (pid_t p : Descendants(getpid(), false)) kill(p, SIGKILL);
    int status = 0;
    if (waitpid(-1, &status, 0) < 0 && errno == ECHILD) return;
  }
}

}  // namespace

int GuardMain(int argc, char** argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: de-worker __guard PARENT_PID -- PROGRAM [ARGS...]\n");
    return 2;
  }
  const pid_t parent = static_cast<pid_t>(atol(argv[2]));
  struct sigaction sa = {};
  sa.sa_handler = OnParentDeath;
  sigaction(SIGHUP, &sa, nullptr);
  prctl(PR_SET_PDEATHSIG, SIGHUP);
  if (getppid() != parent) OnParentDeath(0);   // died before prctl took effect
  // Orphans of the task (a daemon it started, even in its own session) become our children,
  // so KillAndReapRest finds them.
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  // Block termination signals around fork so the guard cannot die before it ignores them; the
  // task gets them (the runner signals the whole group) and the guard reports how it ended.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGQUIT);
  sigprocmask(SIG_BLOCK, &block, &old);
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "de-worker: cannot start the task: %s\n", strerror(errno));
    return 127;
  }
  if (child == 0) {
    signal(SIGHUP, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    prctl(PR_SET_PDEATHSIG, 0);
    execvp(argv[4], argv + 4);
    fprintf(stderr, "cannot execute '%s': %s\n", argv[4], strerror(errno));
    _exit(127);
  }
  // SIGTERM (the runner's cancel or timeout, sent to the group) is for the task; the guard
  // only kills what escaped the group at once, since the SIGKILL that may follow would end the
  // guard too. SA_RESTART off, so waitpid returns to look at the flag.
  struct sigaction term = {};
  term.sa_handler = OnTerminate;
  sigaction(SIGTERM, &term, nullptr);
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 127;
    if (g_terminate) {
      for (pid_t p : Descendants(getpid(), true)) kill(p, SIGKILL);
    }
  }
  KillAndReapRest();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    // End the same way, so the worker reports "killed by signal N".
    const int sig = WTERMSIG(status);
    signal(sig, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, sig);
    sigprocmask(SIG_UNBLOCK, &only, nullptr);
    kill(getpid(), sig);
  }
  return 128;
}

}  // namespace de::worker
