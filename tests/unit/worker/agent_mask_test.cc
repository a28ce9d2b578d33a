// The agent hides an assignment's secret values (Assignment.mask) in the log chunks and the
// result it sends: a real Agent runs a shell task against a fake scheduler on a loopback port.
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "de/v1/worker.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "worker/agent.h"

namespace de::worker {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "hunter2-s3cret";

// Registers the worker, assigns one attempt, and records what the worker sends about it.
class FakeScheduler final : public v1::WorkerService::Service {
 public:
  explicit FakeScheduler(v1::Assignment a) : assignment_(std::move(a)) {}

  grpc::Status Session(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::SchedulerMessage, v1::WorkerMessage>* stream) override {
    v1::WorkerMessage in;
    if (!stream->Read(&in) || !in.has_register_()) return grpc::Status::CANCELLED;
    v1::SchedulerMessage ack;
    ack.mutable_ack()->set_heartbeat_interval_ms(60000);
    if (!stream->Write(ack)) return grpc::Status::CANCELLED;
    bool assign = false;
    {
      absl::MutexLock lock(&mu_);
      assign = !assigned_;
      assigned_ = true;
    }
    v1::SchedulerMessage out;
    *out.mutable_assign() = assignment_;
    if (assign && !stream->Write(out)) return grpc::Status::CANCELLED;
    while (stream->Read(&in)) {
      if (in.has_result()) {
        // Committed: the worker may forget it (it keeps the result until this ack).
        v1::SchedulerMessage ack_result;
        ack_result.mutable_result_ack()->set_attempt_id(in.result().attempt_id());
        ack_result.mutable_result_ack()->set_recorded(true);
        stream->Write(ack_result);
      }
      absl::MutexLock lock(&mu_);
      if (in.has_log()) logs_.push_back(in.log());
      if (in.has_result()) result_ = in.result();
    }
    return grpc::Status::OK;
  }

  // Waits (bounded) for the attempt's result.
  std::optional<v1::TaskResult> WaitResult() {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return result_.has_value(); };
    mu_.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(60));
    return result_;
  }
  // The log as the scheduler stores it: each chunk written at its offset (which must be
  // contiguous).
  std::string Log() {
    absl::MutexLock lock(&mu_);
    std::string log;
    for (const auto& c : logs_) {
      EXPECT_EQ(c.offset(), static_cast<int64_t>(log.size())) << "log chunk offsets have a gap";
      log += c.data();
    }
    return log;
  }

 private:
  const v1::Assignment assignment_;
  absl::Mutex mu_;
  bool assigned_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<v1::LogChunk> logs_ ABSL_GUARDED_BY(mu_);
  std::optional<v1::TaskResult> result_ ABSL_GUARDED_BY(mu_);
};

class AgentMaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "de-agent-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  v1::Assignment ShellAssignment(const std::string& params_yaml) {
    v1::Assignment a;
    a.set_attempt_id(7);
    a.set_run_id("r1");
    a.set_dag_id("d");
    a.set_task_id("t");
    a.set_try_number(1);
    a.set_type("shell");
    a.set_params_yaml(params_yaml);
    return a;
  }

  // Runs the assignment on a real Agent against a fake scheduler until its result arrives.
  std::optional<v1::TaskResult> RunOne(FakeScheduler& fake) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&fake);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    EXPECT_NE(server, nullptr);
    if (!server) return std::nullopt;
    AgentOptions opts;
    opts.scheduler = absl::StrCat("127.0.0.1:", port);
    opts.name = "mask-test";
    opts.slots = 1;
    opts.data_root = dir_.string();
    opts.work_dir = dir_.string();
    opts.self_exe = DE_WORKER_BIN;
    Agent agent(opts);
    std::thread run([&] { agent.Run(); });
    std::optional<v1::TaskResult> result = fake.WaitResult();
    agent.Stop();                 // drain: the result was delivered, so Run() returns
    if (!result) agent.Stop();    // nothing came: stop at once
    run.join();
    server->Shutdown();
    return result;
  }

  std::filesystem::path dir_;
};

TEST_F(AgentMaskTest, SecretsInTaskOutputAndEnvAreMaskedInTheLog) {
  // The output ends with the secret, which could still grow into the longer value: the worker
  // holds it back and must flush it, masked, before the result.
  v1::Assignment a = ShellAssignment(
      "command: 'echo \"pw=hunter2-s3cret\"; echo \"$PW\" >&2; printf \"end hunter2-s3cret\"; "
      "exit 1'");
  (*a.mutable_env())["PW"] = kSecret;
  a.add_mask(kSecret);
  a.add_mask(absl::StrCat(kSecret, "-and-more"));
  FakeScheduler fake(a);
  std::optional<v1::TaskResult> r = RunOne(fake);
  ASSERT_TRUE(r.has_value()) << "no result within the deadline";
  EXPECT_FALSE(r->success());
  EXPECT_EQ(r->exit_code(), 1);
  std::string log = fake.Log();
  EXPECT_EQ(log, "pw=***\n***\nend ***");
  EXPECT_EQ(r->log_bytes(), static_cast<int64_t>(log.size()));
  EXPECT_THAT(r->error(), Not(HasSubstr("hunter2")));
}

TEST_F(AgentMaskTest, SecretInAWorkerErrorIsMaskedInTheResultAndTheLog) {
  // A bad `with:` whose error quotes the secret (an unknown key).
  v1::Assignment a = ShellAssignment(absl::StrCat("command: 'true'\n", kSecret, ": 1\n"));
  a.add_mask(kSecret);
  FakeScheduler fake(a);
  std::optional<v1::TaskResult> r = RunOne(fake);
  ASSERT_TRUE(r.has_value()) << "no result within the deadline";
  EXPECT_FALSE(r->success());
  EXPECT_THAT(r->error(), HasSubstr("unknown key '***'"));
  EXPECT_THAT(r->error(), Not(HasSubstr("hunter2")));
  std::string log = fake.Log();
  EXPECT_THAT(log, HasSubstr("[worker] shell task: unknown key '***'"));
  EXPECT_THAT(log, Not(HasSubstr("hunter2")));
  EXPECT_EQ(r->log_bytes(), static_cast<int64_t>(log.size()));
}

TEST_F(AgentMaskTest, WithoutMaskTheOutputIsSentUnchanged) {
  FakeScheduler fake(ShellAssignment("command: 'echo pw=hunter2-s3cret'"));
  std::optional<v1::TaskResult> r = RunOne(fake);
  ASSERT_TRUE(r.has_value()) << "no result within the deadline";
  EXPECT_TRUE(r->success());
  EXPECT_EQ(fake.Log(), "pw=hunter2-s3cret\n");
}

}  // namespace
}  // namespace de::worker
