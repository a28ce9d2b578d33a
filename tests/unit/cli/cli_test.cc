// dectl's command line without a server: parsing, usage errors, offline validation, and the
// exit code when the scheduler is unreachable.
#include "cli/cli.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result RunCli(std::vector<std::string> args) {
  std::ostringstream out, err;
  Io io{out, err};
  io.poll_interval = absl::Milliseconds(1);
  int code = Run(args, io);
  return {code, out.str(), err.str()};
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "de-cli-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string p = (path_ / name).string();
    std::ofstream(p) << text;
    return p;
  }

 private:
  std::filesystem::path path_;
};

// A localhost port nobody listens on (bound, then released).
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

constexpr char kGoodDag[] = R"(dag: hello
schedule: "@daily"
start_date: 2024-01-01
tasks:
  - id: a
    type: shell
    with: { command: "echo {{ ds }}" }
  - id: b
    type: noop
    needs: [a]
)";

constexpr char kBadDag[] = R"(dag: hello
tasks:
  - id: a
    type: shel
)";

TEST(CliTest, HelpExitsZero) {
  ::unsetenv("DE_SERVER");
  Result r = RunCli({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("trigger"));
  EXPECT_THAT(r.out, HasSubstr("127.0.0.1:7070"));
  EXPECT_EQ(RunCli({"runs", "show", "--help"}).code, kExitOk);
}

TEST(CliTest, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"frobnicate"},
      {"dag"},
      {"runs"},
      {"dag", "validate"},
      {"trigger"},
      {"logs", "run1"},
      {"--output", "yaml", "workers"},
      {"runs", "list", "--state", "sleeping"},
      {"runs", "list", "--limit", "many"},
      {"dag", "show", "d", "--version", "0"},
      {"backfill", "d", "--rerun", "some", "--from", "2024-01-01", "--to", "2024-01-02"},
  };
  for (const auto& args : bad) {
    Result r = RunCli(args);
    EXPECT_EQ(r.code, kExitUsage) << absl::StrJoin(args, " ") << "\n" << r.err;
    EXPECT_FALSE(r.err.empty());
  }
}

TEST(CliTest, BadValuesAreUsageErrorsBeforeAnyCall) {
  // The server address is closed: a usage error must be found before connecting (exit 2, not 3).
  std::string server = absl::StrCat("127.0.0.1:", ClosedPort());
  Result r = RunCli({"--server", server, "trigger", "d", "--conf", "novalue"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, "dectl: bad --conf 'novalue': expected KEY=VALUE\n");

  r = RunCli({"--server", server, "trigger", "d", "--date", "2024-02-30"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("bad date '2024-02-30'"));

  r = RunCli({"--server", server, "backfill", "d", "--from", "2024-01-05", "--to", "2024-01-01"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--to must not be before --from"));

  r = RunCli({"--server", server, "backfill", "d", "--from", "2024-01-05"});
  EXPECT_EQ(r.code, kExitUsage);

  r = RunCli({"--server", server, "--timeout", "never", "workers"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("bad --timeout 'never'"));
}

TEST(CliTest, ValidateGoodFile) {
  TempDir dir;
  std::string good = dir.Write("good.yaml", kGoodDag);
  Result r = RunCli({"dag", "validate", good});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(good, ": ok (dag hello, 2 tasks)\n"));
}

TEST(CliTest, ValidateWarnsAboutTheEitherDayRuleWithoutFailing) {
  TempDir dir;
  // 2100-01-01 is a Friday.
  std::string f = dir.Write("either.yaml",
                            "dag: either\nschedule: \"0 0 13 * FRI\"\nstart_date: 2100-01-01\n"
                            "tasks:\n  - id: a\n    type: noop\n");
  Result r = RunCli({"dag", "validate", f});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(f,
                                ":2:11: warning: schedule '0 0 13 * FRI': day-of-month and "
                                "day-of-week are both restricted, so cron's \"either\" rule applies "
                                "(a day matches when EITHER field matches, not both); next days: "
                                "2100-01-01 Fri, 2100-01-08 Fri, 2100-01-13 Wed, 2100-01-15 Fri, "
                                "2100-01-22 Fri\n",
                                f, ": ok (dag either, 1 task)\n"));
}

// --next shows the DST edge: London's autumn change makes one local hour repeat.
TEST(CliTest, ValidateNextPrintsIntervalsInTheDagsZoneAndUtc) {
  TempDir dir;
  std::string f = dir.Write("hourly.yaml",
                            "dag: hourly\nschedule: \"@hourly\"\ntimezone: Europe/London\n"
                            "start_date: 2100-10-31T00:00:00\ntasks:\n  - id: a\n    type: noop\n");
  Result r = RunCli({"dag", "validate", f, "--next", "3"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(f, ": ok (dag hourly, 1 task)\n",
      "next runs (a run is created when its interval ends):\n"
      "#  LOGICAL DATE (Europe/London)  LOGICAL DATE (UTC)  CREATED AT (Europe/London)  "
      "CREATED AT (UTC)  LENGTH\n"
      "1  2100-10-31 00:00 +01:00       2100-10-30 23:00    2100-10-31 01:00 +01:00     "
      "2100-10-31 00:00  1h00m\n"
      "2  2100-10-31 01:00 +01:00       2100-10-31 00:00    2100-10-31 01:00 +00:00     "
      "2100-10-31 01:00  1h00m\n"
      "3  2100-10-31 01:00 +00:00       2100-10-31 01:00    2100-10-31 02:00 +00:00     "
      "2100-10-31 02:00  1h00m\n"));
  std::string every = dir.Write("every.yaml",
                                "dag: every\nschedule: \"@every 2h30m\"\n"
                                "start_date: 2100-01-01\nend_date: 2100-01-01T05:00:00Z\n"
                                "tasks:\n  - id: a\n    type: noop\n");
  r = RunCli({"dag", "validate", every, "--next", "10"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1  2100-01-01 00:00 +00:00"));
  EXPECT_THAT(r.out, HasSubstr("3  2100-01-01 05:00 +00:00"));   // end_date is the last start
  EXPECT_THAT(r.out, Not(HasSubstr("\n4  ")));
  EXPECT_THAT(r.out, HasSubstr("2h30m\n"));
}

TEST(CliTest, ValidateBadFilePrintsEveryDiagnosticWithPosition) {
  TempDir dir;
  std::string good = dir.Write("good.yaml", kGoodDag);
  std::string bad = dir.Write("bad.yaml", kBadDag);
  Result r = RunCli({"dag", "validate", good, bad});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(good, ": ok")));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(bad, ":4:11: unknown task type 'shel'")));
  EXPECT_THAT(r.out, Not(HasSubstr(absl::StrCat(bad, ": ok"))));
}

TEST(CliTest, ValidateMissingFileFails) {
  Result r = RunCli({"dag", "validate", "/nonexistent/dag.yaml"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.out, HasSubstr("/nonexistent/dag.yaml: cannot read file"));
}

TEST(CliTest, ValidateJson) {
  TempDir dir;
  std::string good = dir.Write("good.yaml", kGoodDag);
  std::string bad = dir.Write("bad.yaml", kBadDag);
  Result r = RunCli({"dag", "validate", "--output", "json", good, bad});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.out.front(), '[');
  EXPECT_THAT(r.out, HasSubstr("\"dag_id\": \"hello\""));
  EXPECT_THAT(r.out, HasSubstr("\"line\": 4"));
}

TEST(CliTest, UnreachableServerExitsThreeNamingTheAddress) {
  std::string server = absl::StrCat("127.0.0.1:", ClosedPort());
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--server", server, "workers"},
                                             {"runs", "list", "--server", server},
                                             {"--server", server, "trigger", "d", "--wait"},
                                             {"--server", server, "logs", "r", "t"}}) {
    Result r = RunCli(args);
    EXPECT_EQ(r.code, kExitUnreachable) << absl::StrJoin(args, " ");
    EXPECT_THAT(r.err,
                HasSubstr(absl::StrCat("dectl: cannot reach de-scheduler at ", server, ": ")));
  }
}

TEST(CliTest, ServerDefaultsToDeServerEnv) {
  std::string server = absl::StrCat("127.0.0.1:", ClosedPort());
  ::setenv("DE_SERVER", server.c_str(), 1);
  Result r = RunCli({"dag", "list"});
  ::unsetenv("DE_SERVER");
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_THAT(r.err, HasSubstr(server));
}

TEST(CliTest, MainTakesArgv) {
  std::ostringstream out, err;
  const char* argv[] = {"dectl", "--version"};
  EXPECT_EQ(Main(2, const_cast<char**>(argv), out, err), kExitOk);
  EXPECT_THAT(out.str(), HasSubstr("dectl "));
}

}  // namespace
}  // namespace de::cli
