// End to end with real processes: /metrics of a live scheduler, scraped by a real Prometheus
// (Debian's prometheus binary) whose query API must agree with `dectl runs show`; and a hung task
// past its deadline firing deadline_miss at the deadline while it still runs.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/harness.h"

namespace de::testing {
namespace {

// GET http://ADDR/PATH; empty on failure.
std::string HttpGet(const std::string& addr, const std::string& path) {
  const size_t colon = addr.rfind(':');
  httplib::Client client(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto res = client.Get(path.c_str());
  return res && res->status == 200 ? res->body : "";
}

// The value of a sample line `series value` in a text scrape, or -1.
double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double v = -1;
    if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
  }
  return -1;
}

// Sum of an instant query's values from Prometheus's HTTP API; nullopt while it has no result.
std::optional<double> PromQuery(const std::string& prom, const std::string& query) {
  std::string body = HttpGet(
      prom, absl::StrCat("/api/v1/query?query=", httplib::detail::encode_query_param(query)));
  if (body.empty()) return std::nullopt;
  google::protobuf::Struct doc;
  if (!google::protobuf::util::JsonStringToMessage(body, &doc).ok()) return std::nullopt;
  const auto& result = doc.fields().at("data").struct_value().fields().at("result").list_value();
  if (result.values_size() == 0) return std::nullopt;
  double sum = 0;
  for (const auto& r : result.values()) {
    const auto& value = r.struct_value().fields().at("value").list_value();
    double v = 0;
    if (!absl::SimpleAtod(value.values(1).string_value(), &v)) return std::nullopt;
    sum += v;
  }
  return sum;
}

TEST(MetricsE2E, RealPrometheusAgreesWithRunsShow) {
  const std::string prometheus = DE_PROMETHEUS_BIN;
  ASSERT_FALSE(prometheus.empty())
      << "Debian's prometheus binary was not found at configure time: run scripts/deps.sh "
         "(it installs the prometheus package) and re-run cmake";
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 2);
  c.Submit(R"yaml(
dag: promtest
tasks:
  - { id: a, type: noop }
  - { id: b, type: shell, needs: [a], with: { command: "true" } }
  - { id: c, type: noop, needs: [a] }
  - { id: d, type: shell, needs: [b, c], with: { command: "exit 3" } }
)yaml");
  const std::string run = c.Trigger("promtest");
  const v1::Run done = c.WaitRunDone(run);
  ASSERT_EQ(done.state(), "failed");
  std::string shown;
  ASSERT_EQ(c.Dectl({"runs", "show", run}, &shown), 0) << shown;
  int ok_tasks = 0, failed_tasks = 0;
  for (const auto& t : done.tasks()) {
    ok_tasks += t.state() == "success";
    failed_tasks += t.state() == "failed";
    EXPECT_TRUE(absl::StrContains(shown, t.task_id())) << shown;
  }
  ASSERT_EQ(ok_tasks, 3);
  ASSERT_EQ(failed_tasks, 1);

  TempDir prom_dir;
  const int port = FreePort();
  const std::string prom_addr = absl::StrCat("127.0.0.1:", port);
  WriteFile(prom_dir / "prometheus.yml",
            absl::StrCat("global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
                         "scrape_configs:\n"
                         "  - job_name: de-scheduler\n"
                         "    static_configs: [ { targets: [\"",
                         c.http_address(), "\"] } ]\n"));
  Process prom({prometheus, "--config.file=" + (prom_dir / "prometheus.yml"),
                "--storage.tsdb.path=" + (prom_dir / "data"), "--web.listen-address=" + prom_addr},
               prom_dir / "prometheus.log");
  // Polled, never slept: Prometheus scrapes every second once it is up.
  auto expect_query = [&](const std::string& q, double want) {
    std::optional<double> got;
    bool ok = WaitUntil(
        [&] {
          got = PromQuery(prom_addr, q);
          return got && *got == want;
        },
        absl::Seconds(60));
    EXPECT_TRUE(ok) << q << " = " << (got ? absl::StrCat(*got) : "no result") << ", want " << want
                    << "\n"
                    << prom.Log();
  };
  expect_query(R"(up{job="de-scheduler"})", 1);
  expect_query(R"(de_runs_finished_total{dag="promtest",state="failed",run_type="manual"})", 1);
  expect_query(R"(sum(de_task_instances_finished_total{dag="promtest",state="success"}))",
               ok_tasks);
  expect_query(R"(sum(de_task_instances_finished_total{dag="promtest",state="failed"}))",
               failed_tasks);
  expect_query(R"(sum(de_runs{dag="promtest"}))", 0);  // nothing unfinished
  expect_query(R"(de_workers_connected)", 1);
  expect_query(R"(de_run_duration_seconds_count{dag="promtest",state="failed"})", 1);
  expect_query(R"(sum(de_task_duration_seconds_count{dag="promtest"}))", 4);
  // Never a run id in a label.
  EXPECT_FALSE(absl::StrContains(HttpGet(c.http_address(), "/metrics"), run));
}

TEST(MetricsE2E, HungTaskPastItsDeadlineFiresDeadlineMissWhileRunning) {
  Cluster c;
  c.StartScheduler();
  c.StartWorker("w1", 1);
  c.Submit(R"yaml(
dag: hung
sla: { after: run_start, within: 3s }
tasks:
  - { id: stuck, type: shell, with: { command: "sleep 600" } }
)yaml");
  const std::string run = c.Trigger("hung");
  v1::Run r;
  ASSERT_TRUE(WaitUntil(
      [&] {
        r = c.GetRun(run);
        return r.deadline_missed_at_ms() != 0;
      },
      absl::Seconds(30)))
      << r.DebugString() << c.Logs();
  EXPECT_EQ(r.state(), "running");
  ASSERT_EQ(r.tasks_size(), 1);
  EXPECT_EQ(r.tasks(0).state(), "running");
  ASSERT_NE(r.deadline_ms(), 0);
  EXPECT_EQ(r.deadline_ms(), r.started_at_ms() + 3000);
  EXPECT_GE(r.deadline_missed_at_ms(), r.deadline_ms());  // at the deadline, not before
  EXPECT_LT(r.deadline_missed_at_ms(), r.deadline_ms() + 10000) << "fired long after it";
  std::string shown;
  ASSERT_EQ(c.Dectl({"runs", "show", run}, &shown), 0) << shown;
  EXPECT_TRUE(absl::StrContains(shown, "deadline:")) << shown;
  EXPECT_TRUE(absl::StrContains(shown, "missed; deadline_miss fired")) << shown;
  const std::string metrics = HttpGet(c.http_address(), "/metrics");
  EXPECT_EQ(Sample(metrics, R"(de_deadline_misses_total{dag="hung"})"), 1) << metrics;
  std::string cancelled;
  EXPECT_EQ(c.Dectl({"runs", "cancel", run}, &cancelled), 0) << cancelled;
}

TEST(MetricsE2E, BusyHttpPortIsAClearStartupError) {
  Cluster first;
  first.StartScheduler();
  TempDir home;
  Process second({DE_SCHEDULER_BIN, "--home", home.path(), "--listen", "127.0.0.1:0", "--http",
                  first.http_address()},
                 home / "log");
  EXPECT_EQ(second.Wait(), 1);
  EXPECT_TRUE(absl::StrContains(second.Log(), "cannot listen on " + first.http_address()))
      << second.Log();
}

}  // namespace
}  // namespace de::testing
