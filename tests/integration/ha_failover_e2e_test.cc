// Failover with real processes (issue 12): two de-schedulers on one PostgreSQL, each with its own
// DE_HOME and a shared --logs folder, workers and dectl given both addresses. The leader holds
// the lease; the standby serves reads, refuses changes naming the leader, and takes over when the
// leader is killed (kill -9) or paused past its lease (SIGSTOP); the run in flight finishes with
// no task succeeding twice; the old leader, restarted or resumed, is a standby.
#include <signal.h>

#include <filesystem>
#include <map>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "tests/integration/harness.h"
#include "tests/support/pg_server.h"

namespace de::testing {
namespace {

constexpr char kLeaderLease[] = "2s";

// One de-scheduler of the pair: its own home, a fixed address (so that workers and dectl can be
// given both up front), the shared store and logs.
class Node {
 public:
  Node(std::string name, std::string url, std::string logs)
      : name_(std::move(name)), url_(std::move(url)), logs_(std::move(logs)),
        address_(absl::StrCat("127.0.0.1:", FreePort())) {
    stub_ = v1::Operator::NewStub(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  void Start() {
    std::filesystem::remove(home_ / "scheduler.addr");
    process_ = std::make_unique<Process>(
        std::vector<std::string>{DE_SCHEDULER_BIN, "--home", home_.path(), "--listen", address_,
                                 "--http", "127.0.0.1:0", "--store", url_, "--logs", logs_,
                                 "--leader-lease", kLeaderLease, "--lease", "1500ms",
                                 "--heartbeat", "200ms", "--log-level", "debug"},
        home_ / absl::StrCat("scheduler-", starts_++, ".log"));
    ASSERT_TRUE(WaitUntil([&] { return ServesReads() || !process_->Running(); })) << Log();
    ASSERT_TRUE(process_->Running()) << Log();
  }
  // A leader publishes its address for local clients; a standby does not.
  bool Leads() const { return FileExists(home_ / "scheduler.addr"); }
  bool ServesReads() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::ListDagsResponse resp;
    return stub_->ListDags(&ctx, v1::ListDagsRequest(), &resp).ok();
  }
  v1::Run GetRun(const std::string& run_id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::GetRunRequest req;
    req.set_run_id(run_id);
    v1::Run run;
    grpc::Status st = stub_->GetRun(&ctx, req, &run);
    if (!st.ok()) run.set_state("unreachable: " + st.error_message());
    return run;
  }
  grpc::Status Trigger(const std::string& dag, std::string* run_id) {
    grpc::ClientContext ctx;
    v1::TriggerRequest req;
    req.set_dag_id(dag);
    v1::Run resp;
    grpc::Status st = stub_->Trigger(&ctx, req, &resp);
    *run_id = resp.run_id();
    return st;
  }
  void Signal(int sig) { process_->Kill(sig); }
  int Kill() {
    process_->Kill(SIGKILL);
    return process_->Wait();
  }
  std::string Log() const {
    std::string out;
    for (int i = 0; i < starts_; ++i) {
      absl::StrAppend(&out, "==== ", name_, " start ", i, "\n",
                      ReadFile(home_ / absl::StrCat("scheduler-", i, ".log")));
    }
    return out;
  }
  std::string CurrentLog() const {
    return ReadFile(home_ / absl::StrCat("scheduler-", starts_ - 1, ".log"));
  }
  const std::string& address() const { return address_; }

 private:
  const std::string name_, url_, logs_;
  const std::string address_;
  TempDir home_;
  int starts_ = 0;
  std::unique_ptr<Process> process_;
  std::unique_ptr<v1::Operator::Stub> stub_;
};

class HaFailover : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    PgServer* pg = PgServer::Get(&skip);
    if (pg == nullptr) GTEST_SKIP() << skip;
    url_ = pg->CreateDatabase();
    ASSERT_FALSE(url_.empty()) << pg->Log();
    a_ = std::make_unique<Node>("a", url_, logs_.path());
    b_ = std::make_unique<Node>("b", url_, logs_.path());
    a_->Start();
    ASSERT_TRUE(WaitUntil([&] { return a_->Leads(); })) << a_->Log();
    b_->Start();
    ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(b_->CurrentLog(), "leads (epoch 1)"); }))
        << b_->Log();
    EXPECT_FALSE(b_->Leads());
  }

  std::string Servers() const { return absl::StrCat(a_->address(), ",", b_->address()); }

  void StartWorker(const std::string& name) {
    workers_.push_back(std::make_unique<Process>(
        std::vector<std::string>{DE_WORKER_BIN, "--scheduler", Servers(), "--name", name,
                                 "--slots", "2", "--data-root", data_.path()},
        data_ / absl::StrCat("worker-", name, ".log")));
  }

  int Dectl(const std::vector<std::string>& args, std::string* output) {
    std::vector<std::string> argv = {DECTL_BIN, "--server", Servers()};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string out = data_ / absl::StrCat("dectl-", dectl_runs_++, ".out");
    Process p(argv, out);
    const int rc = p.Wait();
    *output = ReadFile(out);
    return rc;
  }

  // Submits through dectl (which goes on to the leader) a DAG: `first`, then `hold` mapped over
  // four items (spread over the workers, each waiting for DATA/go), then `last`.
  void SubmitHoldingDag() {
    const std::string dag = data_ / "ha.yaml";
    WriteFile(dag, absl::StrReplaceAll(R"(
dag: ha
tasks:
  - { id: first, type: shell, with: { command: "echo first >> DATA/ran" } }
  - id: hold
    type: shell
    needs: [first]
    for_each: [p, q, r, s]
    with:
      command: |
        echo start-{{ item }} >> DATA/ran
        while [ ! -f DATA/go ]; do sleep 0.02; done
        echo end-{{ item }} >> DATA/ran
  - { id: last, type: shell, needs: [hold], with: { command: "echo last >> DATA/ran" } }
)",
                                       {{"DATA", data_.path()}}));
    std::string out;
    ASSERT_EQ(Dectl({"dag", "submit", dag}, &out), 0) << out;
  }

  // Two workers, the holding DAG triggered through dectl, every held task running: its run id.
  void StartHeldRun(std::string* run_id) {
    StartWorker("w1");
    StartWorker("w2");
    SubmitHoldingDag();
    std::string out;
    ASSERT_EQ(Dectl({"trigger", "ha"}, &out), 0) << out << Logs();
    ASSERT_TRUE(WaitUntil([&] { return AllHoldsStarted(); }, absl::Seconds(60))) << Logs();
    *run_id = PgQuery(url_, "SELECT run_id FROM runs WHERE dag_id = 'ha'");
  }

  bool AllHoldsStarted() {
    const std::string ran = ReadFile(data_ / "ran");
    for (const char* item : {"p", "q", "r", "s"}) {
      if (!absl::StrContains(ran, absl::StrCat("start-", item, "\n"))) return false;
    }
    return true;
  }

  // Lets the held tasks end and waits for the run on `leader`; then as ExpectRanOnce.
  // `restarts_allowed`: a held task may have been started again (its first copy stopped first).
  void ReleaseAndExpectRanOnce(Node& leader, const std::string& run_id,
                               bool restarts_allowed = false) {
    WriteFile(data_ / "go", "");
    v1::Run run;
    ASSERT_TRUE(WaitUntil([&] {
      run = leader.GetRun(run_id);
      return run.state() == "success" || run.state() == "failed";
    }, absl::Seconds(90))) << run.DebugString() << Logs();
    ExpectRanOnce(run, restarts_allowed);
  }

  // Every task of the run succeeded exactly once, each side effect happened once, and nothing
  // was run a second time (with `restarts_allowed`, only started again).
  void ExpectRanOnce(const v1::Run& run, bool restarts_allowed) {
    ASSERT_EQ(run.state(), "success") << run.DebugString() << Logs();
    std::map<std::string, int> successes;
    for (const auto& at : run.attempts()) successes[at.task_id()] += at.state() == "success";
    for (const char* t : {"first", "hold[0]", "hold[1]", "hold[2]", "hold[3]", "last"}) {
      EXPECT_EQ(successes[t], 1) << t << "\n" << run.DebugString();
    }
    const std::string ran = ReadFile(data_ / "ran");
    for (const char* line : {"first\n", "start-p\n", "end-p\n", "start-s\n", "end-s\n", "last\n"}) {
      size_t at = ran.find(line);
      EXPECT_NE(at, std::string::npos) << line << " in\n" << ran;
      if (restarts_allowed && absl::StartsWith(line, "start-")) continue;
      EXPECT_EQ(ran.find(line, at + 1), std::string::npos) << line << " twice in\n" << ran;
    }
    EXPECT_EQ(PgQuery(url_, "SELECT count(*) FROM attempts WHERE state = 'success'"), "6");
  }

  std::string Logs() const {
    std::string out = a_->Log() + b_->Log();
    for (const auto& e : std::filesystem::directory_iterator(data_.path())) {
      if (e.path().extension() == ".log") {
        absl::StrAppend(&out, "==== ", e.path().filename().string(), "\n",
                        ReadFile(e.path().string()));
      }
    }
    return out;
  }

  std::string url_;
  TempDir logs_;   // the task logs both schedulers reach
  TempDir data_;
  std::unique_ptr<Node> a_, b_;
  std::vector<std::unique_ptr<Process>> workers_;
  int dectl_runs_ = 0;
};

TEST_F(HaFailover, TheStandbyServesReadsAndRefusesChangesNamingTheLeader) {
  SubmitHoldingDag();
  std::string run_id;
  grpc::Status st = b_->Trigger("ha", &run_id);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(absl::StrContains(st.error_message(), "this scheduler is a standby; the leader is"))
      << st.error_message();
  EXPECT_TRUE(absl::StrContains(st.error_message(), a_->address())) << st.error_message();
  // Reads: the DAG the leader stored.
  std::string out;
  std::vector<std::string> args = {DECTL_BIN, "--server", b_->address(), "dag", "list"};
  Process list(args, data_ / "list.out");
  EXPECT_EQ(list.Wait(), 0) << ReadFile(data_ / "list.out");
  EXPECT_TRUE(absl::StrContains(ReadFile(data_ / "list.out"), "ha")) << ReadFile(data_ / "list.out");
  // dectl given both addresses triggers on the leader, whichever comes first.
  std::vector<std::string> trig = {DECTL_BIN, "--server",
                                   absl::StrCat(b_->address(), ",", a_->address()), "trigger", "ha"};
  Process t(trig, data_ / "trigger.out");
  EXPECT_EQ(t.Wait(), 0) << ReadFile(data_ / "trigger.out") << Logs();
  EXPECT_EQ(PgQuery(url_, "SELECT count(*) FROM runs WHERE dag_id = 'ha'"), "1");
}

TEST_F(HaFailover, KillingTheLeaderHandsTheRunToTheStandbyAndTheOldLeaderComesBackAsStandby) {
  std::string run_id;
  ASSERT_NO_FATAL_FAILURE(StartHeldRun(&run_id));
  std::string out;

  a_->Kill();
  ASSERT_TRUE(WaitUntil([&] { return b_->Leads(); }, absl::Seconds(30))) << Logs();
  EXPECT_EQ(PgQuery(url_, "SELECT epoch FROM de_leader"), "2");
  ReleaseAndExpectRanOnce(*b_, run_id);
  // The log of a task the old leader ran is served by the new one (the shared --logs folder).
  ASSERT_EQ(Dectl({"logs", run_id, "first"}, &out), 0) << out;

  // The old leader, started again, finds a current lease: it is a standby now.
  a_->Start();
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(a_->CurrentLog(), "leads (epoch 2)"); }))
      << a_->Log();
  EXPECT_FALSE(a_->Leads());
  EXPECT_EQ(a_->GetRun(run_id).state(), "success") << "a standby serves the history";
  std::string ignored;
  EXPECT_EQ(a_->Trigger("ha", &ignored).error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_EQ(Dectl({"trigger", "ha"}, &out), 0) << out;   // dectl finds the new leader
  EXPECT_EQ(PgQuery(url_, "SELECT count(*) FROM runs WHERE dag_id = 'ha'"), "2");
}

TEST_F(HaFailover, ALeaderPausedPastItsLeaseIsFencedWhenItResumes) {
  std::string run_id;
  ASSERT_NO_FATAL_FAILURE(StartHeldRun(&run_id));

  a_->Signal(SIGSTOP);   // as a host that stops answering without closing its connections
  ASSERT_TRUE(WaitUntil([&] { return b_->Leads(); }, absl::Seconds(30))) << Logs();
  a_->Signal(SIGCONT);   // it wakes up believing it leads: its first write, or renewal, fails
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(a_->CurrentLog(), "deposed:"); }))
      << a_->Log();
  // It restarted itself as a standby (the same process, the same log).
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(a_->CurrentLog(), "leads (epoch 2)"); }))
      << a_->Log();
  EXPECT_FALSE(a_->Leads());
  EXPECT_EQ(PgQuery(url_, "SELECT epoch FROM de_leader"), "2");

  // Silent for most of a lease, the paused leader may as well be cut off from the workers while
  // dispatching elsewhere: each worker stopped its held tasks itself, which the new leader ran
  // again. No success counted twice, no side effect of an end twice.
  ReleaseAndExpectRanOnce(*b_, run_id, /*restarts_allowed=*/true);
}

}  // namespace
}  // namespace de::testing
