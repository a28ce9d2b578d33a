// A throwaway PostgreSQL server for tests: Debian's `postgresql` package binaries
// (/usr/lib/postgresql/<N>/bin), a data directory in /tmp, a free loopback port, trust
// authentication for the user `de`. Started on first use, once per test process, and stopped
// when the process exits (SIGKILL reaches it even if the test crashes: PR_SET_PDEATHSIG).
// PostgreSQL refuses to run as root, so under root it runs as the `postgres` system user.
#pragma once

#include <string>

namespace de::testing {

// The first column of the first row of `sql` on `url`: "<no row>", or "<error MESSAGE>".
std::string PgQuery(const std::string& url, const std::string& sql);

class PgServer {
 public:
  // The process's server, or nullptr with `why` set (no PostgreSQL binaries, or no user to run
  // them as), in which case a test should GTEST_SKIP() << why.
  static PgServer* Get(std::string* why);

  // A new empty database; returns its URL (postgresql://de@127.0.0.1:PORT/NAME).
  std::string CreateDatabase();
  int port() const { return port_; }
  // The server's log (for failure messages).
  std::string Log() const;
  // Stops the server (at process exit).
  void Stop();

 private:
  PgServer() = default;
  bool Start(std::string* why);

  std::string dir_;
  int port_ = 0;
  int pid_ = -1;
  int next_db_ = 0;
};

}  // namespace de::testing
