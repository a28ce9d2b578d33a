// The HTTP JSON API (/api/v1/) of a real scheduler with a real worker: every endpoint answers the
// operator API's messages in protobuf's JSON mapping, errors are JSON with the right status,
// actions change real state (a POST trigger creates a run the gRPC API sees), and actions without
// the CSRF header, with another content type or from another origin are refused.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

constexpr char kDag[] = R"(dag: api_demo
description: "API test <b>bold</b>"
schedule: null
tasks:
  - id: hello
    type: shell
    with: { command: 'echo "hello from {{ params.who }}"' }
  - id: after
    type: shell
    needs: [hello]
    with: { command: 'echo after' }
params: { who: nobody }
)";

constexpr char kSlowDag[] = R"(dag: api_slow
schedule: null
tasks:
  - id: wait
    type: shell
    with: { command: 'sleep 60' }
)";

struct Reply {
  int status = 0;
  std::string body;
  std::string content_type;
};

class Http {
 public:
  explicit Http(const std::string& addr)
      : client_(addr.substr(0, addr.rfind(':')), std::stoi(addr.substr(addr.rfind(':') + 1))) {
    client_.set_connection_timeout(5);
    client_.set_read_timeout(20);
  }
  Reply Get(const std::string& path) { return Wrap(client_.Get(path.c_str())); }
  // A POST as the page sends it (CSRF header, JSON), unless `headers` replaces them.
  Reply Post(const std::string& path, const std::string& body,
             httplib::Headers headers = {{"X-De-Csrf", "1"}},
             const std::string& type = "application/json") {
    return Wrap(client_.Post(path.c_str(), headers, body, type.c_str()));
  }

 private:
  static Reply Wrap(const httplib::Result& res) {
    Reply r;
    if (!res) return r;
    r.status = res->status;
    r.body = res->body;
    r.content_type = res->get_header_value("Content-Type");
    return r;
  }
  httplib::Client client_;
};

template <typename T>
T Parse(const Reply& r) {
  T msg;
  auto st = google::protobuf::util::JsonStringToMessage(r.body, &msg);
  EXPECT_TRUE(st.ok()) << st.message() << " in " << r.body;
  return msg;
}

// Expects a JSON error body with `code` and HTTP `status`.
void ExpectError(const Reply& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.body;
  EXPECT_EQ(doc["error"]["code"], code) << r.body;
  EXPECT_FALSE(doc["error"]["message"].get<std::string>().empty());
}

TEST(ApiE2E, EveryReadEndpointAnswersTheOperatorMessages) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 2);
  c.Submit(kDag);
  const std::string run_id = c.Trigger("api_demo", {{"who", "grpc"}});
  ASSERT_EQ(c.WaitRunDone(run_id).state(), "success") << c.Logs();
  Http http(c.http_address());

  auto health = Parse<v1::Health>(http.Get("/api/v1/health"));
  EXPECT_EQ(health.workers_connected(), 1);
  EXPECT_EQ(health.slots(), 2);
  EXPECT_GT(health.started_at_ms(), 0);

  auto dags = Parse<v1::ListDagOverviewsResponse>(http.Get("/api/v1/dags"));
  ASSERT_EQ(dags.dags_size(), 1);
  EXPECT_EQ(dags.dags(0).summary().dag_id(), "api_demo");
  EXPECT_EQ(dags.dags(0).summary().description(), "API test <b>bold</b>");
  ASSERT_EQ(dags.dags(0).recent_runs_size(), 1);
  EXPECT_EQ(dags.dags(0).recent_runs(0).run_id(), run_id);
  EXPECT_EQ(dags.dags(0).recent_runs(0).state(), "success");
  EXPECT_GT(dags.dags(0).last_success_at_ms(), 0);

  auto dag = Parse<v1::Dag>(http.Get("/api/v1/dags/api_demo"));
  ASSERT_EQ(dag.tasks_size(), 2);
  EXPECT_EQ(dag.tasks(1).needs(0), "hello");

  auto runs = Parse<v1::ListRunsResponse>(http.Get("/api/v1/runs?dag=api_demo&limit=5"));
  ASSERT_EQ(runs.runs_size(), 1);
  EXPECT_EQ(runs.runs(0).conf().at("who"), "grpc");
  auto grid = Parse<v1::ListRunsResponse>(http.Get("/api/v1/runs?dag=api_demo&tasks=1"));
  ASSERT_EQ(grid.runs_size(), 1);
  ASSERT_EQ(grid.runs(0).tasks_size(), 2);
  for (const auto& t : grid.runs(0).tasks()) {
    EXPECT_EQ(t.state(), "success");
    EXPECT_EQ(t.try_number(), 1);
    EXPECT_GE(t.ended_at_ms(), t.started_at_ms());
  }
  // The compact grid: rows in the DAG's task order, one column per run, cells aligned.
  auto g = Parse<v1::Grid>(http.Get("/api/v1/dags/api_demo/grid"));
  ASSERT_EQ(g.task_ids_size(), 2);
  EXPECT_EQ(g.task_ids(1), dag.tasks(1).task_id());
  ASSERT_EQ(g.columns_size(), 1);
  const v1::GridColumn& col = g.columns(0);
  EXPECT_EQ(col.run().run_id(), run_id);
  EXPECT_EQ(col.run().tasks_size(), 0);
  ASSERT_EQ(col.states_size(), 2);
  ASSERT_EQ(col.tries_size(), 2);
  ASSERT_EQ(col.max_tries_size(), 2);
  ASSERT_EQ(col.duration_ms_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(col.states(i), "success");
    EXPECT_EQ(col.tries(i), 1);
    EXPECT_GE(col.duration_ms(i), 0);
  }
  ExpectError(http.Get("/api/v1/dags/nosuch/grid"), 404, "NOT_FOUND");
  ExpectError(http.Get("/api/v1/dags/api_demo/grid?limit=0"), 400, "INVALID_ARGUMENT");
  EXPECT_EQ(Parse<v1::ListRunsResponse>(http.Get("/api/v1/runs?dag=api_demo&state=failed"))
                .runs_size(),
            0);

  auto run = Parse<v1::Run>(http.Get("/api/v1/runs/" + run_id));
  EXPECT_EQ(run.state(), "success");
  EXPECT_EQ(run.attempts_size(), 2);

  auto log = Parse<v1::GetTaskLogResponse>(
      http.Get(absl::StrCat("/api/v1/runs/", run_id, "/tasks/hello/logs?try=1")));
  EXPECT_TRUE(absl::StrContains(log.data(), "hello from grpc")) << log.data();
  EXPECT_TRUE(log.finished());
  auto tail = Parse<v1::GetTaskLogResponse>(http.Get(absl::StrCat(
      "/api/v1/runs/", run_id, "/tasks/hello/logs?try=1&offset=", log.next_offset())));
  EXPECT_EQ(tail.data(), "");
  EXPECT_EQ(tail.next_offset(), log.next_offset());

  auto workers = Parse<v1::ListWorkersResponse>(http.Get("/api/v1/workers"));
  ASSERT_EQ(workers.workers_size(), 1);
  EXPECT_EQ(workers.workers(0).name(), "w1");
  EXPECT_EQ(workers.workers(0).state(), "connected");

  EXPECT_EQ(Parse<v1::ListBackfillsResponse>(http.Get("/api/v1/backfills")).backfills_size(), 0);
  Reply alerts = http.Get("/api/v1/alerts?dag=api_demo");
  EXPECT_EQ(alerts.status, 200) << alerts.body;
  Parse<v1::ListAlertsResponse>(alerts);
}

TEST(ApiE2E, ErrorsAreJsonWithTheirStatus) {
  Cluster c;
  c.StartScheduler();
  c.Submit(kDag);
  Http http(c.http_address());
  ExpectError(http.Get("/api/v1/runs/no_such_run"), 404, "NOT_FOUND");
  ExpectError(http.Get("/api/v1/dags/no_such_dag"), 404, "NOT_FOUND");
  ExpectError(http.Get("/api/v1/backfills/no_such_backfill"), 404, "NOT_FOUND");
  ExpectError(http.Get("/api/v1/runs/no_such_run/tasks/x/logs"), 404, "NOT_FOUND");
  ExpectError(http.Get("/api/v1/no_such_endpoint"), 404, "NOT_FOUND");
  ExpectError(http.Get("/api/v1/runs?dag=api_demo&limit=lots"), 400, "INVALID_ARGUMENT");
  ExpectError(http.Get("/api/v1/runs?tasks=1"), 400, "INVALID_ARGUMENT");
  ExpectError(http.Get("/api/v1/runs/x/tasks/y/logs?offset=-1"), 400, "INVALID_ARGUMENT");
  ExpectError(http.Post("/api/v1/dags/api_demo/trigger", "{not json"), 400, "INVALID_ARGUMENT");
  ExpectError(http.Post("/api/v1/dags/api_demo/trigger", R"({"no_such_field": 1})"), 400,
              "INVALID_ARGUMENT");
  ExpectError(http.Post("/api/v1/dags/no_such_dag/trigger", "{}"), 404, "NOT_FOUND");
  ExpectError(http.Post("/api/v1/runs/no_such_run/cancel", "{}"), 404, "NOT_FOUND");
}

TEST(ApiE2E, ActionsChangeRealState) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 2);
  c.Submit(kDag);
  c.Submit(kSlowDag);
  Http http(c.http_address());

  // Trigger with conf: a real run, seen by the gRPC API, that runs to success.
  Reply r = http.Post("/api/v1/dags/api_demo/trigger", R"({"conf": {"who": "http"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string run_id = Parse<v1::Run>(r).run_id();
  v1::Run done = c.WaitRunDone(run_id);
  EXPECT_EQ(done.state(), "success") << c.Logs();
  EXPECT_EQ(done.conf().at("who"), "http");
  EXPECT_TRUE(absl::StrContains(c.TaskLog(run_id, "hello"), "hello from http"));

  // Clear: the run runs again (second tries).
  r = http.Post(absl::StrCat("/api/v1/runs/", run_id, "/clear"), R"({"taskIds": ["after"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(WaitUntil([&] {
    v1::Run x = c.GetRun(run_id);
    return x.state() == "success" && x.attempts_size() == 3;
  })) << c.Logs();

  // Pause refuses triggers (409), unpause allows them again.
  r = http.Post("/api/v1/dags/api_demo/pause", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Parse<v1::DagSummary>(r).paused());
  ExpectError(http.Post("/api/v1/dags/api_demo/trigger", "{}"), 409, "FAILED_PRECONDITION");
  ASSERT_EQ(http.Post("/api/v1/dags/api_demo/unpause", "").status, 200);
  EXPECT_FALSE(Parse<v1::Dag>(http.Get("/api/v1/dags/api_demo")).summary().paused());

  // Cancel a running run.
  r = http.Post("/api/v1/dags/api_slow/trigger", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string slow = Parse<v1::Run>(r).run_id();
  ASSERT_TRUE(WaitUntil([&] { return c.GetRun(slow).attempts_size() == 1; })) << c.Logs();
  r = http.Post(absl::StrCat("/api/v1/runs/", slow, "/cancel"), "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(c.WaitRunDone(slow).state(), "cancelled");
  ExpectError(http.Post(absl::StrCat("/api/v1/runs/", slow, "/cancel"), ""), 409,
              "FAILED_PRECONDITION");
}

TEST(ApiE2E, ActionsWithoutCsrfProtectionAreRefused) {
  Cluster c;
  c.StartScheduler();
  c.Submit(kDag);
  Http http(c.http_address());
  // What a cross-site form can send: no custom header, a form content type.
  ExpectError(http.Post("/api/v1/dags/api_demo/trigger", "{}", {}), 403, "PERMISSION_DENIED");
  ExpectError(http.Post("/api/v1/dags/api_demo/trigger", "conf=x", {{"X-De-Csrf", "1"}},
                        "application/x-www-form-urlencoded"),
              403, "PERMISSION_DENIED");
  ExpectError(http.Post("/api/v1/dags/api_demo/trigger", "{}",
                        {{"X-De-Csrf", "1"}, {"Origin", "http://evil.example"}}),
              403, "PERMISSION_DENIED");
  ExpectError(http.Post("/api/v1/dags/api_demo/pause", "", {}), 403, "PERMISSION_DENIED");
  // Nothing happened.
  auto runs = Parse<v1::ListRunsResponse>(http.Get("/api/v1/runs?dag=api_demo"));
  EXPECT_EQ(runs.runs_size(), 0);
  EXPECT_FALSE(Parse<v1::Dag>(http.Get("/api/v1/dags/api_demo")).summary().paused());
  // The same origin is accepted.
  const std::string origin = "http://" + c.http_address();
  Reply ok = http.Post("/api/v1/dags/api_demo/trigger", "{}",
                       {{"X-De-Csrf", "1"}, {"Origin", origin}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST(ApiE2E, ThePageIsServedForItsPaths) {
  Cluster c;
  c.StartScheduler();
  Http http(c.http_address());
  for (const char* path : {"/", "/dags/x", "/runs/r", "/runs/r/t/1", "/workers"}) {
    Reply r = http.Get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_TRUE(absl::StrContains(r.body, "/assets/app.js")) << path;
  }
  Reply js = http.Get("/assets/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_TRUE(absl::StartsWith(js.content_type, "text/javascript"));
  EXPECT_EQ(http.Get("/assets/nope.js").status, 404);
  EXPECT_EQ(http.Get("/metrics").status, 200);
}

}  // namespace
}  // namespace de::testing
