#include "tests/support/pg_server.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace de::testing {

namespace {

std::string FindBinDir() {
  std::error_code ec;
  std::string best;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    std::string bin = e.path().string() + "/bin";
    if (std::filesystem::exists(bin + "/initdb") && std::filesystem::exists(bin + "/postgres") &&
        bin > best) {
      best = bin;
    }
  }
  return best;
}

int LoopbackFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  bool drop = false;
};

// Forks and execs argv as `who`, output to `log`. With `tie`, the child dies with this process.
pid_t Spawn(const std::vector<std::string>& argv, const RunAs& who, const std::string& log,
            bool tie) {
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
  }
  if (who.drop && (::setgroups(0, nullptr) != 0 || ::setgid(who.gid) != 0 ||
                   ::setuid(who.uid) != 0)) {
    ::_exit(126);
  }
  if (tie) {   // after setuid, which clears it
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

int WaitFor(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string AdminConninfo(int port) {
  return "host=127.0.0.1 port=" + std::to_string(port) + " user=de dbname=postgres";
}

}  // namespace

PgServer* PgServer::Get(std::string* why) {
  static std::string failure;
  static PgServer* server = [] {
    auto* s = new PgServer();
    if (!s->Start(&failure)) {
      s->Stop();
      delete s;
      return static_cast<PgServer*>(nullptr);
    }
    std::atexit([] {
      if (PgServer* p = Get(nullptr)) p->Stop();
    });
    return s;
  }();
  if (server == nullptr && why != nullptr) *why = failure;
  return server;
}

bool PgServer::Start(std::string* why) {
  const std::string bin = FindBinDir();
  if (bin.empty()) {
    *why = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; "
           "scripts/deps.sh installs the postgresql package)";
    return false;
  }
  RunAs who;
  if (::geteuid() == 0) {
    passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      *why = "running as root and there is no 'postgres' user to run PostgreSQL as";
      return false;
    }
    who = RunAs{pw->pw_uid, pw->pw_gid, true};
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "de-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    *why = "mkdtemp failed";
    return false;
  }
  dir_ = tmpl;
  if (who.drop && ::chown(dir_.c_str(), who.uid, who.gid) != 0) {
    *why = "cannot chown " + dir_ + " to postgres";
    return false;
  }
  const std::string log = dir_ + "/server.log";
  int rc = WaitFor(Spawn({bin + "/initdb", "-D", dir_ + "/data", "-U", "de", "-A", "trust",
                          "--no-locale", "-E", "UTF8", "--no-sync"},
                         who, log, false));
  if (rc != 0) {
    *why = "initdb failed (exit " + std::to_string(rc) + "): " + Log();
    return false;
  }
  for (int attempt = 0; attempt < 3 && pid_ < 0; ++attempt) {
    port_ = LoopbackFreePort();
    pid_t pid = Spawn({bin + "/postgres", "-D", dir_ + "/data", "-p", std::to_string(port_), "-k",
                       dir_, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                       "full_page_writes=off", "-c", "max_connections=200"},
                      who, log, true);
    const std::string conninfo = AdminConninfo(port_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) {
        pid_ = pid;
        break;
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) break;   // exited: port taken? retry
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (pid_ < 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  if (pid_ < 0) {
    *why = "PostgreSQL did not start: " + Log();
    return false;
  }
  return true;
}

std::string PgServer::CreateDatabase() {
  const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++next_db_);
  PGconn* conn = PQconnectdb(AdminConninfo(port_).c_str());
  PGresult* res = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string err = PQerrorMessage(conn);
  PQclear(res);
  PQfinish(conn);
  if (!ok) {
    std::fprintf(stderr, "CREATE DATABASE %s failed: %s\n", name.c_str(), err.c_str());
    return "";
  }
  return "postgresql://de@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

std::string PgServer::Log() const {
  std::ifstream in(dir_ + "/server.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void PgServer::Stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGQUIT);   // immediate shutdown
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (!dir_.empty() && std::getenv("DE_KEEP_TMP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string PgQuery(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  PGresult* res = PQexec(conn, sql.c_str());
  std::string out = PQresultStatus(res) != PGRES_TUPLES_OK
                        ? std::string("<error ") + PQerrorMessage(conn) + ">"
                    : PQntuples(res) == 0 ? "<no row>"
                                          : PQgetvalue(res, 0, 0);
  PQclear(res);
  PQfinish(conn);
  return out;
}

}  // namespace de::testing
