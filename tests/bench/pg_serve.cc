// pg_serve: the tests' throwaway PostgreSQL server (tests/support/pg_server.h) for scripts.
// Starts it, creates one empty database, prints its URL on one line, and serves until SIGTERM
// or SIGINT; the server stops with this process (it dies with it even on SIGKILL).
// Usage: pg_serve > url.txt & ... kill %1   (tests/bench/scheduler_bench.sh STORE=postgres)
#include <signal.h>

#include <cstdio>
#include <string>

#include "tests/support/pg_server.h"

int main() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  std::string why;
  de::testing::PgServer* server = de::testing::PgServer::Get(&why);
  if (server == nullptr) {
    std::fprintf(stderr, "pg_serve: %s\n", why.c_str());
    return 1;
  }
  const std::string url = server->CreateDatabase();
  if (url.empty()) return 1;
  std::printf("%s\n", url.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;   // atexit stops the server
}
