// What a client may hold open on the scheduler: a worker session that never sends its Register
// is closed by the scheduler after a lease (it would otherwise pin a server thread forever).
#include <gtest/gtest.h>

#include <chrono>

#include "absl/strings/match.h"
#include "de/v1/worker.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

TEST(SessionLimitsE2E, ASilentWorkerSessionIsClosedByTheScheduler) {
  Cluster c;   // --lease 1500ms
  c.StartScheduler();
  auto channel = grpc::CreateChannel(c.address(), grpc::InsecureChannelCredentials());
  auto stub = v1::WorkerService::NewStub(channel);
  grpc::ClientContext ctx;
  // Far beyond the lease: if the scheduler never closed it, this deadline would end it instead.
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub->Session(&ctx);
  v1::SchedulerMessage m;
  EXPECT_FALSE(stream->Read(&m));   // nothing is sent before a Register; then the end
  grpc::Status st = stream->Finish();
  EXPECT_NE(st.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << st.error_message();
  EXPECT_TRUE(WaitUntil([&] { return absl::StrContains(c.Logs(), "sent no Register within"); }))
      << c.Logs();
  // A real worker still connects and works.
  c.StartWorker("w1");
  c.Submit("dag: ok\ntasks:\n  - id: t\n    type: noop\n");
  EXPECT_EQ(c.WaitRunDone(c.Trigger("ok")).state(), "success") << c.Logs();
}

}  // namespace
}  // namespace de::testing
