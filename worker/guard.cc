#include "worker/guard.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace de::worker {
namespace {

// The worker died: take the whole group (the task and everything it started) down with us.
void OnParentDeath(int) { kill(0, SIGKILL); }

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
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
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
