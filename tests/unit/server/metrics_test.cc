// Metrics from committed events and state samples, rendered in the Prometheus text format; the
// HTTP listener that serves them (port 0, a busy port, unknown paths).
#include "server/metrics/metrics.h"

#include <httplib.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/http/http_server.h"
#include "tests/unit/server/scheduler_fixture.h"

namespace de::sched {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MetricsTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    sched_->AddEventListener(&metrics_);
    sched_->SetObserver(&metrics_);
  }
  std::string Text() {
    sched_->SampleState();
    return metrics_.Render();
  }
  metrics::Metrics metrics_;
};

TEST_F(MetricsTest, CountsFinishedRunsTasksAndRetriesWithoutRunIds) {
  Submit(R"(
dag: m
tasks:
  - id: a
    type: noop
    retries: 1
    retry_delay: 1s
  - id: b
    type: noop
    needs: [a]
)");
  ASSERT_OK_AND_ASSIGN(auto ack, Connect("w1", 2));
  const std::string run = Trigger("m");
  EXPECT_THAT(Text(), HasSubstr(R"(de_runs{dag="m",state="running"} 1)"));
  EXPECT_THAT(Text(), HasSubstr(R"(de_pool_tasks{pool="default",state="running"} 1)"));
  EXPECT_THAT(Text(), HasSubstr(R"(de_worker_free_slots{worker="w1"} 1)"));
  auto as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Fail("w1", as[0]);
  Advance(absl::Seconds(1));
  as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  v1::WorkerMessage m;
  v1::TaskResult* r = m.mutable_result();
  r->set_attempt_id(as[0].attempt_id());
  r->set_success(true);
  (*r->mutable_counters())["rows_in"] = 10;
  (*r->mutable_counters())["rows_out"] = 8;
  (*r->mutable_counters())["rows_rejected"] = 2;
  (*r->mutable_counters())["bytes"] = 4096;
  sched_->OnWorkerMessage("w1", Session("w1"), m);
  as = Channel("w1").TakeAssignments();
  ASSERT_EQ(as.size(), 1u);
  Succeed("w1", as[0]);
  ASSERT_EQ(Run(run).state, "success");
  const std::string text = Text();
  EXPECT_THAT(text,
              HasSubstr(R"(de_runs_finished_total{dag="m",run_type="manual",state="success"} 1)"));
  EXPECT_THAT(text,
              HasSubstr(R"(de_task_instances_finished_total{dag="m",state="success",task="a"} 1)"));
  EXPECT_THAT(text,
              HasSubstr(R"(de_task_instances_finished_total{dag="m",state="success",task="b"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(de_task_retries_total{dag="m",task="a"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(de_task_rows_in_total{dag="m",task="a"} 10)"));
  EXPECT_THAT(text, HasSubstr(R"(de_task_rows_out_total{dag="m",task="a"} 8)"));
  EXPECT_THAT(text, HasSubstr(R"(de_task_rows_rejected_total{dag="m",task="a"} 2)"));
  EXPECT_THAT(text, HasSubstr(R"(de_task_bytes_written_total{dag="m",task="a"} 4096)"));
  EXPECT_THAT(text, HasSubstr(R"(de_runs{dag="m",state="running"} 0)"));
  EXPECT_THAT(text,
              HasSubstr(R"(de_task_duration_seconds_count{dag="m",state="success"} 2)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(de_run_duration_seconds_count{dag="m",run_type="manual",state="success"} 1)"));
  EXPECT_THAT(text,
              HasSubstr(R"(de_task_scheduling_delay_seconds_count{dag="m",pool="default"} 3)"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("de_dag_last_success_timestamp_seconds{dag=\"m\"} ",
                                           NowMs() / 1000)));
  EXPECT_THAT(text, Not(HasSubstr(run)));  // never a run id in a label
}

TEST_F(MetricsTest, LeaseExpiriesPoolsAndAlertDeliveries) {
  Submit(kSingle);
  ASSERT_OK_AND_ASSIGN(auto ack, Connect("w1", 1));
  Trigger("single");
  ASSERT_EQ(Channel("w1").TakeAssignments().size(), 1u);
  Advance(absl::Seconds(11));  // lease lapses; the task is queued again and nobody can take it
  const std::string text = Text();
  EXPECT_THAT(text, HasSubstr(R"(de_lease_expiries_total{dag="single",task="only"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(de_pool_tasks{pool="default",state="queued"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(de_pool_starving_tasks{pool="default"} 1)"));
  EXPECT_THAT(text, HasSubstr("de_workers_connected 1"));
  metrics_.AlertDelivered("slack", "delivered");
  metrics_.AlertDelivered("slack", "delivered");
  metrics_.AlertDelivered("webhook", "failed");
  EXPECT_THAT(metrics_.Render(),
              HasSubstr(R"(de_alert_deliveries_total{channel="slack",state="delivered"} 2)"));
  EXPECT_THAT(metrics_.Render(),
              HasSubstr(R"(de_alert_deliveries_total{channel="webhook",state="failed"} 1)"));
}

TEST_F(MetricsTest, EveryFamilyIsExportedWithThePrefix) {
  const std::string text = metrics_.Render();
  for (const auto& name : metrics_.Names()) {
    EXPECT_TRUE(absl::StartsWith(name, "de_")) << name;
    EXPECT_THAT(text, HasSubstr(absl::StrCat("# TYPE ", name, " "))) << name;
  }
  EXPECT_GE(metrics_.Names().size(), 28u);
}

TEST(HttpServerTest, ServesRoutesOnAFreePortAndRefusesABusyOne) {
  http::HttpServer server;
  server.Route("/metrics", [] { return http::Response{200, "text/plain", "de_up 1\n"}; });
  auto addr = server.Start("127.0.0.1:0");
  ASSERT_TRUE(addr.ok()) << addr.status();
  const int port = std::stoi(addr->substr(addr->rfind(':') + 1));
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "de_up 1\n");
  auto missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  http::HttpServer second;
  auto busy = second.Start(*addr);
  ASSERT_FALSE(busy.ok());
  EXPECT_THAT(std::string(busy.status().message()), HasSubstr("cannot listen on " + *addr));
  auto bad = second.Start("nonsense");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("is not HOST:PORT"));
  server.Stop();
}

}  // namespace
}  // namespace de::sched
