// `dectl dag test` and `dectl dag render` as a user runs them: the example DAGs in dags/ on
// generated data, a failing task, an invalid file, and that nothing of the user's DE_HOME or
// running scheduler is touched and nothing is left running or lying around.
#include <signal.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

const std::string kRepo = DE_SOURCE_DIR;

// Runs dectl with `env` added; returns the exit code, fills output (stdout+stderr).
int RunDectl(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
             const TempDir& dir, std::string* output) {
  static int n = 0;
  std::vector<std::string> argv = {DECTL_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string out = dir / absl::StrCat("dectl-", n++, ".out");
  Process p(argv, out, env);
  const int rc = p.Wait();
  *output = ReadFile(out);
  return rc;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  return names;
}

// Processes whose command line mentions `needle` (a task or guard of a run under that folder).
std::vector<std::string> ProcessesMentioning(const std::string& needle) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    std::string cmdline = ReadFile(e.path().string() + "/cmdline");
    for (char& c : cmdline) c = c == '\0' ? ' ' : c;
    if (absl::StrContains(cmdline, needle)) found.push_back(cmdline);
  }
  return found;
}

// A day of flights as scripts/demo.sh makes them: DATA/raw/flights-DAY.csv.gz.
void GenerateDay(const std::string& data, const std::string& day, int rows, int seed) {
  std::filesystem::create_directories(data + "/raw");
  TempDir logs;
  Process p({"/bin/sh", "-c",
             absl::StrCat(kRepo, "/scripts/gen-flights.sh ", day, " ", rows, " ", seed,
                          " | gzip -1 > ", data, "/raw/flights-", day, ".csv.gz")},
            logs / "gen.out");
  ASSERT_EQ(p.Wait(), 0) << ReadFile(logs / "gen.out");
}

// The environment of a user with a DE_HOME and a scheduler of their own.
struct UserEnv {
  TempDir tmp;    // TMPDIR: where dag test makes its home
  TempDir home;   // the user's DE_HOME: must stay empty
  TempDir data;   // --data-root
  TempDir outs;
  std::map<std::string, std::string> env(const std::string& server = "127.0.0.1:1") const {
    return {{"TMPDIR", tmp.path()}, {"DE_HOME", home.path()}, {"DE_SERVER", server}};
  }
};

TEST(DagTestE2E, HelloShellRunsLocallyPrintsLogsAndTouchesNothing) {
  Cluster c;   // the user's running scheduler: dag test must not talk to it
  c.StartScheduler();
  UserEnv u;
  std::string out;
  const int rc = RunDectl({"dag", "test", kRepo + "/dags/hello_shell.yaml", "--conf", "who=tester",
                           "--date", "2024-03-04", "--data-root", u.data.path()},
                          u.env(c.address()), u.outs, &out);
  ASSERT_EQ(rc, 0) << out;
  // Each task's log lines, prefixed by the task id, with a retry's try number.
  EXPECT_TRUE(absl::StrContains(out, "[start] hello, tester! run hello_shell__manual__"
                                     "20240304T000000Z of hello_shell, logical date 2024-03-04"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "[flaky] simulated failure on the first try")) << out;
  EXPECT_TRUE(absl::StrContains(out, "[flaky try 2] ok on try 2")) << out;
  // A try waiting for its retry is not done: no duration, as for a task still running.
  EXPECT_TRUE(absl::StrContains(out, " flaky up_for_retry (try 1): exit code 1\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, " flaky success (try 2) in ")) << out;
  EXPECT_TRUE(absl::StrContains(out, "[join] both branches done: hello from join of "
                                     "hello_shell__manual__20240304T000000Z"))
      << out;
  // The tasks ran in the data root; the final table has every task's state and tries.
  EXPECT_TRUE(absl::StrContains(out, "in " + u.data.path())) << out;
  EXPECT_TRUE(absl::StrContains(out, "TASK   TYPE   STATE    TRIES  DURATION")) << out;
  EXPECT_TRUE(absl::StrContains(out, "flaky  shell  success  2/3")) << out;
  EXPECT_TRUE(absl::StrContains(out, "succeeded in")) << out;

  // Nothing in the user's DE_HOME, no temporary home left, nothing still running.
  EXPECT_TRUE(Entries(u.home.path()).empty());
  EXPECT_TRUE(Entries(u.tmp.path()).empty()) << Entries(u.tmp.path()).front();
  EXPECT_TRUE(ProcessesMentioning(u.tmp.path()).empty());
  // The user's scheduler knows nothing of it.
  EXPECT_EQ(c.Dectl({"runs", "list"}, &out), 0) << out;
  EXPECT_FALSE(absl::StrContains(out, "hello_shell")) << out;
  EXPECT_EQ(c.Dectl({"dag", "list"}, &out), 0) << out;
  EXPECT_FALSE(absl::StrContains(out, "hello_shell")) << out;
}

TEST(DagTestE2E, FailingTaskExitsOneNamingItAndItsLog) {
  UserEnv u;
  const std::string file = u.outs / "fails.yaml";
  WriteFile(file, R"(dag: fails
tasks:
  - { id: fine, type: shell, with: { command: "echo home is $DE_HOME" } }
  - id: boom
    type: shell
    needs: [fine]
    with: { command: "echo about to fail; exit 3" }
  - { id: after, type: shell, needs: [boom], with: { command: "echo never" } }
)");
  std::string out;
  ASSERT_EQ(RunDectl({"dag", "test", file, "--data-root", u.data.path()}, u.env(), u.outs, &out),
            1)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "[boom] about to fail")) << out;
  EXPECT_FALSE(absl::StrContains(out, "never")) << out;
  EXPECT_TRUE(absl::StrContains(out, "after  shell  upstream_failed")) << out;
  // Tasks see the temporary home as DE_HOME, not the user's.
  EXPECT_TRUE(absl::StrContains(out, "[fine] home is " + u.tmp.path() + "/de-dag-test-")) << out;
  EXPECT_FALSE(absl::StrContains(out, "home is " + u.home.path())) << out;
  // The failed task and where its log is (the home is kept for it).
  const std::string marker = "task boom failed: exit code 3; its log: ";
  const size_t at = out.find(marker);
  ASSERT_NE(at, std::string::npos) << out;
  const std::string log = out.substr(at + marker.size(), out.find('\n', at) - at - marker.size());
  EXPECT_TRUE(absl::StartsWith(log, u.tmp.path() + "/de-dag-test-")) << log;
  EXPECT_TRUE(absl::StrContains(log, "/logs/fails__manual__")) << log;
  EXPECT_TRUE(absl::EndsWith(log, "/boom/1.log")) << log;
  EXPECT_TRUE(absl::StrContains(ReadFile(log), "about to fail")) << log;
  EXPECT_TRUE(absl::StrContains(out, "failed; kept DE_HOME")) << out;
  EXPECT_TRUE(Entries(u.home.path()).empty());
  EXPECT_TRUE(ProcessesMentioning(u.tmp.path()).empty());
}

// A built-in task's error names the task type, not a command the user did not run.
TEST(DagTestE2E, BuiltinTaskErrorsNameTheTaskTypeNotDeWorker) {
  UserEnv u;
  const std::string file = u.outs / "badconv.yaml";
  WriteFile(file, R"(dag: badconv
tasks:
  - id: convert
    type: csv_to_parquet
    with: { input: missing/nothing.csv, output: lake/out }
)");
  std::string out;
  ASSERT_EQ(RunDectl({"dag", "test", file, "--data-root", u.data.path()}, u.env(), u.outs, &out),
            1)
      << out;
  EXPECT_TRUE(absl::StrContains(
      out, "[convert] csv_to_parquet: error: input missing/nothing.csv: no such file or folder"))
      << out;
  EXPECT_FALSE(absl::StrContains(out, "de-worker")) << out;
}

TEST(DagTestE2E, InterruptCancelsTheRunAndCleansUp) {
  UserEnv u;
  const std::string file = u.outs / "slow.yaml";
  WriteFile(file, R"(dag: slow
tasks:
  - { id: slow, type: shell, with: { command: "echo started; sleep 120; echo done" } }
)");
  const std::string log = u.outs / "slow.out";
  Process p({DECTL_BIN, "dag", "test", file, "--data-root", u.data.path()}, log, u.env());
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(ReadFile(log), "[slow] started"); }))
      << ReadFile(log);
  p.Kill(SIGINT);
  EXPECT_EQ(p.Wait(), 1);
  const std::string out = ReadFile(log);
  EXPECT_TRUE(absl::StrContains(out, "interrupted: cancelling the run")) << out;
  EXPECT_TRUE(absl::StrContains(out, "slow  shell  cancelled")) << out;
  EXPECT_FALSE(absl::StrContains(out, "[slow] done")) << out;
  EXPECT_TRUE(ProcessesMentioning(u.tmp.path()).empty());
  EXPECT_TRUE(Entries(u.home.path()).empty());
}

TEST(DagTestE2E, VariablesAndSecretsFromTheCommandLineSecretMasked) {
  UserEnv u;
  const std::string file = u.outs / "vault.yaml";
  WriteFile(file, R"(dag: vault
tasks:
  - id: pull
    type: shell
    with:
      command: 'echo "region {{ var.region }} key $API_KEY"'
      env: { API_KEY: "{{ secret.api_key }}" }
)");
  WriteFile(u.outs / "key.txt", "s3cr3t-value\n");
  std::string out;
  EXPECT_EQ(RunDectl({"dag", "test", file, "--data-root", u.data.path(), "--var", "region=eu-west-1",
                      "--secret", "api_key=" + (u.outs / "key.txt")},
                     u.env(), u.outs, &out),
            0)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "[pull] region eu-west-1 key ***")) << out;
  EXPECT_FALSE(absl::StrContains(out, "s3cr3t")) << out;
  // Without them the DAG is refused as `dag submit` would refuse it.
  EXPECT_EQ(RunDectl({"dag", "test", file, "--data-root", u.data.path()}, u.env(), u.outs, &out),
            1)
      << out;
  EXPECT_TRUE(absl::StrContains(out, file + ":6:16: unknown variable 'region'")) << out;
  EXPECT_TRUE(absl::StrContains(out, "given with --var NAME=VALUE")) << out;
  EXPECT_TRUE(Entries(u.tmp.path()).empty());   // nothing ran: nothing kept
}

TEST(DagTestE2E, InvalidFileIsReportedWithFileAndLine) {
  UserEnv u;
  const std::string bad = u.outs / "bad.yaml";
  WriteFile(bad, "dag: bad\ntasks:\n  - id: a\n    type: shel\n");
  const std::string expected = bad + ":4:11: unknown task type 'shel' (did you mean 'shell'?)";
  std::string out;
  EXPECT_EQ(RunDectl({"dag", "test", bad}, u.env(), u.outs, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, expected)) << out;
  EXPECT_EQ(RunDectl({"dag", "render", bad, "--task", "a"}, u.env(), u.outs, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, expected)) << out;
  EXPECT_TRUE(Entries(u.tmp.path()).empty());
}

TEST(DagTestE2E, ExampleFlightDagsSucceedOnGeneratedData) {
  UserEnv u;
  const std::string data = u.data.path();
  for (int day = 1; day <= 31; ++day) {
    GenerateDay(data, absl::StrFormat("2024-01-%02d", day), 300, day);
  }
  std::string out;
  for (int day = 1; day <= 31; ++day) {
    const std::string ds = absl::StrFormat("2024-01-%02d", day);
    ASSERT_EQ(RunDectl({"dag", "test", kRepo + "/dags/flights_daily.yaml", "--date", ds,
                        "--data-root", data},
                       u.env(), u.outs, &out),
              0)
        << out;
    ASSERT_TRUE(absl::StrContains(out, "[manifest] lake/flights/dt=" + ds + ":")) << out;
    ASSERT_TRUE(FileExists(data + "/marts/daily/dt=" + ds + "/_SUCCESS")) << out;
    // Only the one run: the schedule's catchup runs of the other days were never made.
    if (day == 1) ASSERT_FALSE(FileExists(data + "/lake/flights/dt=2024-01-02")) << out;
  }
  EXPECT_TRUE(absl::StrContains(out, "[rejects] ")) << out;
  EXPECT_TRUE(absl::StrContains(out, "daily_stats  aggregate       success")) << out;

  ASSERT_EQ(RunDectl({"dag", "test", kRepo + "/dags/flights_monthly.yaml", "--date", "2024-01-01",
                      "--data-root", data},
                     u.env(), u.outs, &out),
            0)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "data interval [2024-01-01T00:00:00+00:00, "
                                     "2024-02-01T00:00:00+00:00)"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "wait_for flights_daily: skipped")) << out;
  EXPECT_TRUE(FileExists(data + "/marts/monthly/dt=2024-01-01/_SUCCESS")) << out;
  EXPECT_TRUE(FileExists(data + "/marts/monthly_delays/dt=2024-01-01/_SUCCESS")) << out;
  EXPECT_TRUE(Entries(u.home.path()).empty());
  EXPECT_TRUE(Entries(u.tmp.path()).empty());
}

TEST(DagTestE2E, RenderPrintsTheBlockForTheDate) {
  UserEnv u;
  std::string out;
  ASSERT_EQ(RunDectl({"dag", "render", kRepo + "/dags/flights_daily.yaml", "--task", "convert",
                      "--date", "2024-01-05", "--conf", "raw_dir=/drop"},
                     u.env(), u.outs, &out),
            0)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "  input: \"/drop/flights-2024-01-05.csv.gz\"\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "  output: \"lake/flights/dt=2024-01-05\"\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "logical date 2024-01-05T00:00:00+00:00, data interval "
                                     "[2024-01-05T00:00:00+00:00, 2024-01-06T00:00:00+00:00)"))
      << out;

  ASSERT_EQ(RunDectl({"dag", "render", kRepo + "/dags/flights_monthly.yaml", "--task",
                      "monthly_stats", "--date", "2024-02-01"},
                     u.env(), u.outs, &out),
            0)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "    from: \"2024-02-01T00:00:00+00:00\"\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "    to: \"2024-03-01T00:00:00+00:00\"\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "  output: \"marts/monthly/dt=2024-02-01\"\n")) << out;

  // A shell task: the command line quoted for the shell, as the worker runs it, and its env.
  ASSERT_EQ(RunDectl({"dag", "render", kRepo + "/dags/hello_shell.yaml", "--task", "start",
                      "--date", "2024-03-04", "--conf", "who=a\"b"},
                     u.env(), u.outs, &out),
            0)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "command (run by /bin/sh -c):\n  echo \"hello, a\\\"b! run "
                                     "hello_shell__manual__20240304T000000Z of hello_shell, "
                                     "logical date 2024-03-04\"\n"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "  DE_DS=2024-03-04\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "  DE_PARAM_WHO=a\"b\n")) << out;

  // Variables and secrets are placeholders; a secret's value is nowhere.
  const std::string file = u.outs / "vault.yaml";
  WriteFile(file, R"(dag: vault
tasks:
  - id: pull
    type: shell
    with:
      command: "curl -H 'Bearer {{ secret.api_key }}' https://{{ var.region }}.example.com/{{ ds }}"
)");
  ASSERT_EQ(RunDectl({"dag", "render", file, "--task", "pull", "--date", "2024-01-02"}, u.env(),
                     u.outs, &out),
            0)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "curl -H 'Bearer <secret:api_key>' https://'<var.region>'"
                                     ".example.com/'2024-01-02'"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "resolved by the scheduler at run time")) << out;

  EXPECT_EQ(RunDectl({"dag", "render", file, "--task", "pul"}, u.env(), u.outs, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "has no task 'pul' (its tasks: pull)")) << out;
}

}  // namespace
}  // namespace de::testing
