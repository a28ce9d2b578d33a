// An attempt that finished while the scheduler was away and is fenced when the worker comes back
// (its lease lapsed meanwhile) is forgotten: its result is not delivered, it is not heartbeated
// any more, and a drain ends. Found by the chaos suite (seed 4242): the worker kept such an
// attempt forever, got a cancel for it on every heartbeat, and never drained on SIGTERM.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "de/v1/worker.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "worker/agent.h"

namespace de::worker {
namespace {

constexpr int64_t kAttempt = 41;

// Session 1 assigns the attempt and hangs up once the task has started (it then waits for a "go"
// file). Later sessions are refused, the first of them creating "go", until the task's
// "finished" file exists (it finished while the worker had no scheduler) and once more after
// that (so its result is queued); then one is accepted with the attempt fenced.
class FencingScheduler final : public v1::WorkerService::Service {
 public:
  FencingScheduler(v1::Assignment a, std::filesystem::path dir)
      : assignment_(std::move(a)), dir_(std::move(dir)) {}

  grpc::Status Session(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::SchedulerMessage, v1::WorkerMessage>* stream) override {
    v1::WorkerMessage in;
    if (!stream->Read(&in) || !in.has_register_()) return grpc::Status::CANCELLED;
    int session = 0;
    {
      absl::MutexLock lock(&mu_);
      session = ++sessions_;
      if (session > 1 && !std::filesystem::exists(dir_ / "finished")) {
        std::ofstream(dir_ / "go").put('x');
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not yet");
      }
      if (session > 1 && ++refused_after_marker_ == 1) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "once more");
      }
    }
    v1::SchedulerMessage ack;
    ack.mutable_ack()->set_heartbeat_interval_ms(100);
    ack.mutable_ack()->set_lease_ms(2000);
    if (session > 1) ack.mutable_ack()->add_fenced_attempt_ids(kAttempt);
    if (!stream->Write(ack)) return grpc::Status::CANCELLED;
    if (session == 1) {
      v1::SchedulerMessage out;
      *out.mutable_assign() = assignment_;
      stream->Write(out);
      const absl::Time deadline = absl::Now() + absl::Seconds(30);
      while (!std::filesystem::exists(dir_ / "started") && absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(10));   // polls the task's marker, bounded
      }
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "scheduler killed");
    }
    while (stream->Read(&in)) {
      absl::MutexLock lock(&mu_);
      if (in.has_result()) results_.insert(in.result().attempt_id());
      ++heartbeats_;   // a heartbeat without running attempts is an empty message
      if (in.has_heartbeat()) {
        for (int64_t id : in.heartbeat().running_attempt_ids()) held_after_fence_.insert(id);
      }
    }
    return grpc::Status::OK;
  }

  // Waits (bounded) for `n` messages (heartbeats) of the fenced session.
  bool WaitHeartbeats(int n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return heartbeats_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(60));
  }
  std::set<int64_t> results() {
    absl::MutexLock lock(&mu_);
    return results_;
  }
  std::set<int64_t> held_after_fence() {
    absl::MutexLock lock(&mu_);
    return held_after_fence_;
  }

 private:
  const v1::Assignment assignment_;
  const std::filesystem::path dir_;
  absl::Mutex mu_;
  int sessions_ ABSL_GUARDED_BY(mu_) = 0;
  int refused_after_marker_ ABSL_GUARDED_BY(mu_) = 0;
  int heartbeats_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<int64_t> results_ ABSL_GUARDED_BY(mu_);
  std::set<int64_t> held_after_fence_ ABSL_GUARDED_BY(mu_);
};

TEST(AgentFenceTest, FinishedAttemptFencedOnReconnectIsForgottenAndDrainEnds) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "de-agent-XXXXXX").string();
  const std::filesystem::path dir = ::mkdtemp(tmpl.data());
  v1::Assignment a;
  a.set_attempt_id(kAttempt);
  a.set_run_id("r1");
  a.set_dag_id("d");
  a.set_task_id("t");
  a.set_try_number(1);
  a.set_type("shell");
  a.set_params_yaml(absl::StrCat("command: 'cd ", dir.string(),
                                  " && touch started && while [ ! -e go ]; do sleep 0.02; done"
                                  " && touch finished'"));
  FencingScheduler fake(a, dir);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&fake);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  AgentOptions opts;
  opts.scheduler = absl::StrCat("127.0.0.1:", port);
  opts.name = "fence-test";
  opts.slots = 1;
  opts.data_root = dir.string();
  opts.work_dir = dir.string();
  opts.self_exe = DE_WORKER_BIN;
  opts.max_backoff = absl::Milliseconds(200);
  Agent agent(opts);
  absl::Notification returned;
  std::thread run([&] {
    agent.Run();
    returned.Notify();
  });
  // A few heartbeats of the session that fenced the attempt.
  EXPECT_TRUE(fake.WaitHeartbeats(3)) << "the worker never came back";
  agent.Stop();   // drain: nothing runs, so Run() must return
  const bool drained = returned.WaitForNotificationWithTimeout(absl::Seconds(20));
  if (!drained) agent.Stop();   // stop at once, so the test ends
  run.join();
  server->Shutdown();
  std::filesystem::remove_all(dir);

  EXPECT_TRUE(drained) << "a drain never ended: the fenced attempt was kept";
  EXPECT_EQ(fake.held_after_fence().count(kAttempt), 0u)
      << "the fenced attempt was still heartbeated as running";
  EXPECT_EQ(fake.results().count(kAttempt), 0u) << "a fenced attempt's result was delivered";
}

}  // namespace
}  // namespace de::worker
