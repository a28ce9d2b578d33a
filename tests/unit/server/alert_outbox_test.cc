// The alert outbox and sender, driven by synthetic scheduler events (the sched/events.h contract):
// which events write which rows, in the transition's transaction; retries with backoff; permanent
// failures; the HTTP and command channels.

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/alerts/channel.h"
#include "server/alerts/outbox.h"
#include "server/alerts/outbox_store.h"
#include "server/alerts/rules.h"
#include "server/alerts/sender.h"
#include "server/store/store.h"
#include "tests/unit/server/store_backend.h"
#include "tests/unit/server/test_util.h"

namespace de::alerts {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using testing_util::TempDir;

constexpr char kDag[] = R"(dag: d
alerts:
  - on: [failure, recovered]
    webhook: { url: "http://127.0.0.1:1/${DE_TEST_HOOK_PATH}", headers: { X-Token: "${DE_TEST_TOKEN}" } }
  - on: [failure, recovered]
    pagerduty: { routing_key: "${DE_TEST_PD_KEY}", url: "http://127.0.0.1:2/v2/enqueue" }
  - on: [retry, task_failure]
    slack: http://127.0.0.1:3/slack
  - on: [lease_lost]
    command: [echo, "{{ dag }} {{ run_id }} {{ task }}"]
tasks: [{id: a, type: noop}]
)";

sched::Event RunEvent(const std::string& run, const std::string& to) {
  sched::Event e;
  e.kind = sched::EventKind::kRunState;
  e.at_ms = 1704153600000;
  e.dag = "d";
  e.dag_version = 1;
  e.run_id = run;
  e.from_state = "running";
  e.to_state = to;
  return e;
}

sched::Event TaskEvent(sched::EventKind kind, const std::string& run, const std::string& to) {
  sched::Event e = RunEvent(run, to);
  e.kind = kind;
  e.task = "a";
  e.try_number = 1;
  e.reason = "exit code 3";
  return e;
}

class AlertOutboxTest : public ::testing::TestWithParam<testing_util::Backend> {
 protected:
  void SetUp() override {
    std::string skip;
    location_ = testing_util::FreshLocation(GetParam(), dir_, &skip);
    DE_SKIP_UNLESS_LOCATION(location_, skip);
    auto s = store::Store::Open(location_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    store::DagVersionRow v;
    v.dag_id = "d";
    v.version = 1;
    v.yaml = kDag;
    v.source = "d.yaml";
    v.created_at = 1;
    ASSERT_OK(store_->InsertDagVersion(v));
    options_.logs_dir = dir_.path() + "/logs";
    outbox_ = std::make_unique<AlertOutbox>(options_, &clock_, [this] { ++wakes_; });
  }

  // DE_HOME/logs/RUN/TASK/TRY.log, where the outbox reads an attempt's log tail.
  void WriteLog(const std::string& run, const std::string& task, int try_number,
                const std::string& text) {
    const std::string folder = absl::StrCat(dir_.path(), "/logs/", run, "/", task);
    std::filesystem::create_directories(folder);
    std::ofstream(absl::StrCat(folder, "/", try_number, ".log")) << text;
  }

  void AddRun(const std::string& run, const std::string& state, int64_t ended_at) {
    store::RunRow r;
    r.run_id = run;
    r.dag_id = "d";
    r.dag_version = 1;
    r.run_type = "manual";
    r.state = state;
    r.logical_date = 1704067200000 + ended_at;
    r.interval_start = r.logical_date;
    r.interval_end = r.logical_date;
    r.created_at = ended_at;
    r.started_at = ended_at;
    r.ended_at = ended_at;
    ASSERT_OK(store_->InsertRun(r));
  }

  // Delivers `e` as the scheduler does: OnEvent inside a transaction, OnCommitted after it.
  absl::Status Fire(const sched::Event& e, bool commit = true) {
    store::Transaction tx(store_->db());
    DE_RETURN_IF_ERROR(tx.status());
    DE_RETURN_IF_ERROR(outbox_->OnEvent(e, store_->db()));
    if (!commit) return absl::OkStatus();   // rolled back by tx's destructor
    DE_RETURN_IF_ERROR(tx.Commit());
    outbox_->OnCommitted({e});
    return absl::OkStatus();
  }

  std::vector<OutboxRow> Rows() {
    auto rows = ListOutboxRows(store_->db(), "", false, 1000);
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::vector<OutboxRow> out = rows.ok() ? *rows : std::vector<OutboxRow>{};
    std::reverse(out.begin(), out.end());   // oldest first
    return out;
  }

  static std::vector<std::string> EventChannels(const std::vector<OutboxRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.event + "/" + r.channel);
    return out;
  }

  TempDir dir_;
  std::string location_;
  common::FakeClock clock_{absl::FromUnixMillis(1704153600000)};
  std::unique_ptr<store::Store> store_;
  OutboxOptions options_;
  std::unique_ptr<AlertOutbox> outbox_;
  int wakes_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, AlertOutboxTest, DE_BOTH_BACKENDS);

TEST_P(AlertOutboxTest, EventsMapToAlertNames) {
  EXPECT_THAT(AlertEventsOf(RunEvent("r", "failed")), ElementsAre("failure"));
  EXPECT_THAT(AlertEventsOf(RunEvent("r", "success")), ElementsAre("success"));
  EXPECT_THAT(AlertEventsOf(RunEvent("r", "running")), IsEmpty());
  EXPECT_THAT(AlertEventsOf(RunEvent("r", "cancelled")), IsEmpty());
  EXPECT_THAT(AlertEventsOf(TaskEvent(sched::EventKind::kTaskState, "r", "failed")),
              ElementsAre("task_failure"));
  EXPECT_THAT(AlertEventsOf(TaskEvent(sched::EventKind::kTaskState, "r", "up_for_retry")),
              IsEmpty());
  EXPECT_THAT(AlertEventsOf(TaskEvent(sched::EventKind::kRetry, "r", "up_for_retry")),
              ElementsAre("retry"));
  EXPECT_THAT(AlertEventsOf(TaskEvent(sched::EventKind::kLeaseLost, "r", "")),
              ElementsAre("lease_lost"));
  EXPECT_THAT(AlertEventsOf(RunEvent("r", "failed")), ElementsAre("failure"));
  sched::Event dm = RunEvent("r", "");
  dm.kind = sched::EventKind::kDeadlineMiss;
  EXPECT_THAT(AlertEventsOf(dm), ElementsAre("deadline_miss"));
  dm.kind = sched::EventKind::kWaitTimeout;
  EXPECT_THAT(AlertEventsOf(dm), ElementsAre("wait_timeout"));
}

TEST_P(AlertOutboxTest, FailureWritesOneRowPerSubscribedHookInTheTransaction) {
  AddRun("r1", "failed", 100);
  ASSERT_OK(Fire(RunEvent("r1", "failed")));
  std::vector<OutboxRow> rows = Rows();
  EXPECT_THAT(EventChannels(rows), ElementsAre("failure/webhook", "failure/pagerduty"));
  EXPECT_EQ(wakes_, 1);
  for (const auto& r : rows) {
    EXPECT_EQ(r.state, "pending");
    EXPECT_EQ(r.attempts, 0);
    EXPECT_EQ(r.dag_id, "d");
    EXPECT_EQ(r.run_id, "r1");
    EXPECT_EQ(r.delivery_id.size(), 36u);
  }
  EXPECT_NE(rows[0].delivery_id, rows[1].delivery_id);
  // Secrets stay references in the store.
  EXPECT_EQ(json::parse(rows[0].target)["url"], "http://127.0.0.1:1/${DE_TEST_HOOK_PATH}");
  EXPECT_EQ(json::parse(rows[0].target)["headers"]["X-Token"], "${DE_TEST_TOKEN}");
  json pd = json::parse(rows[1].body);
  EXPECT_EQ(pd["routing_key"], "${DE_TEST_PD_KEY}");
  EXPECT_EQ(pd["event_action"], "trigger");
  EXPECT_EQ(pd["dedup_key"], "de/d/r1");
  json hook = json::parse(rows[0].body);
  EXPECT_EQ(hook["event"], "failure");
  EXPECT_EQ(hook["run_type"], "manual");   // completed from the store
  EXPECT_EQ(hook["delivery_id"], rows[0].delivery_id);

  // A transition that rolls back leaves no rows.
  AddRun("r2", "failed", 200);
  ASSERT_OK(Fire(RunEvent("r2", "failed"), /*commit=*/false));
  EXPECT_EQ(Rows().size(), 2u);
}

TEST_P(AlertOutboxTest, RunFailureNamesTheFailedTaskWithItsLogTail) {
  AddRun("r1", "failed", 100);
  store::TaskInstanceRow ti;
  ti.run_id = "r1";
  ti.task_id = "a";
  ti.state = "failed";
  ti.try_number = 2;
  ti.max_tries = 2;
  ti.ended_at = 100;
  ti.error = "exit code 7";
  ASSERT_OK(store_->InsertTaskInstance(ti));
  WriteLog("r1", "a", 2, "starting\nkaboom\n");
  ASSERT_OK(Fire(RunEvent("r1", "failed")));
  json hook = json::parse(Rows()[0].body);
  EXPECT_EQ(hook["task"], "a");
  EXPECT_EQ(hook["attempt"], 2);
  EXPECT_EQ(hook["reason"], "exit code 7");
  EXPECT_EQ(hook["log_tail"], "starting\nkaboom");
}

TEST_P(AlertOutboxTest, RetryAndTaskFailureAndLeaseLost) {
  AddRun("r1", "running", 0);
  ASSERT_OK(Fire(TaskEvent(sched::EventKind::kRetry, "r1", "up_for_retry")));
  ASSERT_OK(Fire(TaskEvent(sched::EventKind::kTaskState, "r1", "up_for_retry")));   // nothing
  ASSERT_OK(Fire(TaskEvent(sched::EventKind::kTaskState, "r1", "running")));        // nothing
  ASSERT_OK(Fire(TaskEvent(sched::EventKind::kLeaseLost, "r1", "")));
  ASSERT_OK(Fire(TaskEvent(sched::EventKind::kTaskState, "r1", "failed")));
  ASSERT_OK(Fire(RunEvent("r1", "success")));   // nobody subscribed to success
  std::vector<OutboxRow> rows = Rows();
  EXPECT_THAT(EventChannels(rows),
              ElementsAre("retry/slack", "lease_lost/command", "task_failure/slack"));
  EXPECT_THAT(json::parse(rows[1].target)["argv"],
              ElementsAre("echo", "d r1 a"));   // templates rendered at insert time
  EXPECT_EQ(json::parse(rows[0].body)["text"],
            ":large_orange_circle: de: d run r1: task a attempt 1 failed, will retry (exit code 3)");
}

// 1,000 failed instances of a for_each task must not page 1,000 times: one task_failure for the
// mapped task, naming how many failed and the first few, with the first one's log.
TEST_P(AlertOutboxTest, AMappedTaskFailsOnceForAllItsInstances) {
  AddRun("r1", "running", 0);
  for (int i = 0; i < 1000; ++i) {
    store::TaskInstanceRow ti;
    ti.run_id = "r1";
    ti.task_id = absl::StrCat("a[", i, "]");
    ti.map_index = i;
    ti.map_item = absl::StrCat("f", i, ".csv");
    ti.state = i == 3 ? "success" : "failed";
    ti.try_number = 1;
    ti.max_tries = 1;
    ti.ended_at = 100 + i;
    ti.error = absl::StrCat("exit code ", i % 2 + 1);
    ASSERT_OK(store_->InsertTaskInstance(ti));
    sched::Event e = TaskEvent(sched::EventKind::kTaskState, "r1", ti.state);
    e.task = ti.task_id;
    ASSERT_OK(Fire(e));   // an instance's own failure pages nobody
  }
  WriteLog("r1", "a[0]", 1, "reading f0.csv\nboom\n");
  EXPECT_THAT(Rows(), IsEmpty());
  sched::Event parent = TaskEvent(sched::EventKind::kTaskState, "r1", "failed");
  parent.reason = "999 of 1000 instances did not succeed";
  ASSERT_OK(Fire(parent));
  std::vector<OutboxRow> rows = Rows();
  ASSERT_THAT(EventChannels(rows), ElementsAre("task_failure/slack"));
  EXPECT_EQ(rows[0].task_id, "a");
  EXPECT_EQ(json::parse(rows[0].body)["text"],
            ":red_circle: de: d run r1: task a failed (999 of 1000 instances did not succeed; "
            "failed: a[0] (exit code 1), a[1] (exit code 2), a[2] (exit code 1), "
            "a[4] (exit code 1), a[5] (exit code 2) and 994 more)");
  // An ordinary task still has its own task_failure.
  ASSERT_OK(Fire(TaskEvent(sched::EventKind::kTaskState, "r1", "failed")));
  EXPECT_EQ(Rows().size(), 2u);
}

TEST_P(AlertOutboxTest, AMappedTaskFailureQuotesTheFirstFailedInstancesLog) {
  AddRun("r1", "running", 0);
  store::TaskInstanceRow ti;
  ti.run_id = "r1";
  ti.task_id = "a[0]";
  ti.map_index = 0;
  ti.state = "failed";
  ti.try_number = 2;
  ti.error = "exit code 1";
  ASSERT_OK(store_->InsertTaskInstance(ti));
  WriteLog("r1", "a[0]", 2, "reading f0.csv\nboom\n");
  sched::Event parent = TaskEvent(sched::EventKind::kTaskState, "r1", "failed");
  parent.reason = "1 of 1 instances did not succeed";
  ASSERT_OK(Fire(parent));
  std::vector<OutboxRow> rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(std::string(json::parse(rows[0].body)["text"]),
              ::testing::HasSubstr("failed: a[0] (exit code 1))"));
  EXPECT_THAT(rows[0].body, ::testing::HasSubstr("reading f0.csv\\nboom"));   // its try 2's log
}

TEST_P(AlertOutboxTest, RecoveredResolvesEveryFailedRunSinceTheLastSuccess) {
  AddRun("r0", "failed", 50);    // before the last success: already resolved then
  AddRun("r1", "success", 100);
  AddRun("r2", "failed", 200);
  AddRun("r3", "cancelled", 250);
  AddRun("r4", "failed", 300);
  AddRun("r5", "success", 400);
  auto failed = FailedRunsSinceLastSuccess(store_->db(), "d", "r5");
  ASSERT_TRUE(failed.ok());
  EXPECT_THAT(*failed, ElementsAre("r4", "r2"));
  ASSERT_OK(Fire(RunEvent("r5", "success")));
  std::vector<OutboxRow> rows = Rows();
  EXPECT_THAT(EventChannels(rows),
              ElementsAre("recovered/webhook", "recovered/pagerduty", "recovered/pagerduty"));
  EXPECT_EQ(json::parse(rows[0].body)["previous_run"], "r4");
  EXPECT_EQ(json::parse(rows[1].body)["dedup_key"], "de/d/r4");
  EXPECT_EQ(json::parse(rows[1].body)["event_action"], "resolve");
  EXPECT_EQ(json::parse(rows[2].body)["dedup_key"], "de/d/r2");
  // A second success in a row is no recovery.
  AddRun("r6", "success", 500);
  ASSERT_OK(Fire(RunEvent("r6", "success")));
  EXPECT_EQ(Rows().size(), 3u);
}

TEST_P(AlertOutboxTest, DefaultsApplyToEveryDagAndTestEventsReachEveryHook) {
  OutboxOptions o = options_;
  dag::AlertSpec all;
  all.on = {"success"};
  all.webhook = "http://127.0.0.1:4/all";
  o.defaults.push_back(all);
  outbox_ = std::make_unique<AlertOutbox>(o, &clock_, [this] { ++wakes_; });
  AddRun("r1", "success", 100);
  ASSERT_OK(Fire(RunEvent("r1", "success")));
  EXPECT_THAT(EventChannels(Rows()), ElementsAre("success/webhook"));
  auto test_rows = outbox_->EnqueueTest("d", store_->db());
  ASSERT_TRUE(test_rows.ok()) << test_rows.status();
  EXPECT_THAT(EventChannels(*test_rows), ElementsAre("test/webhook", "test/pagerduty",
                                                     "test/slack", "test/command", "test/webhook"));
  EXPECT_EQ(Rows().size(), 6u);
  EXPECT_EQ(outbox_->EnqueueTest("nope", store_->db()).status().code(),
            absl::StatusCode::kNotFound);
}

// A channel that answers from a script.
class ScriptedChannel : public AlertChannel {
 public:
  explicit ScriptedChannel(std::vector<DeliveryResult> script) : script_(std::move(script)) {}
  DeliveryResult Deliver(const OutboxRow& row, absl::Duration) override {
    delivered.push_back(row.delivery_id);
    DeliveryResult r = script_.empty() ? ClassifyHttpStatus(200, "") : script_.front();
    if (!script_.empty()) script_.erase(script_.begin());
    return r;
  }
  std::vector<std::string> delivered;

 private:
  std::vector<DeliveryResult> script_;
};

TEST_P(AlertOutboxTest, SenderRetriesWithBackoffThenSucceedsOnce) {
  AddRun("r1", "failed", 100);
  ASSERT_OK(Fire(RunEvent("r1", "failed")));
  ScriptedChannel webhook({ClassifyHttpStatus(500, "oops"), ClassifyHttpStatus(503, ""),
                           ClassifyHttpStatus(200, "")});
  ScriptedChannel pd({ClassifyHttpStatus(400, "bad routing key")});
  std::vector<std::string> outcomes;
  SenderOptions so;
  so.on_attempt = [&](const std::string& ch, const std::string& o) {
    outcomes.push_back(ch + ":" + o);
  };
  auto db = store::Db::Open(location_);
  ASSERT_TRUE(db.ok());
  AlertSender sender(std::move(*db), &clock_, so, {{"webhook", &webhook}, {"pagerduty", &pd}});
  EXPECT_EQ(*sender.SendDue(), 2);
  EXPECT_EQ(*sender.SendDue(), 0);                // the retry is not due yet
  clock_.Advance(absl::Milliseconds(999));
  EXPECT_EQ(*sender.SendDue(), 0);
  clock_.Advance(absl::Milliseconds(1));         // first retry after 1s
  EXPECT_EQ(*sender.SendDue(), 1);
  clock_.Advance(absl::Milliseconds(1999));
  EXPECT_EQ(*sender.SendDue(), 0);
  clock_.Advance(absl::Milliseconds(1));         // then 2s
  EXPECT_EQ(*sender.SendDue(), 1);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(*sender.SendDue(), 0);                // sent exactly once
  EXPECT_EQ(webhook.delivered.size(), 3u);
  EXPECT_EQ(webhook.delivered[0], webhook.delivered[2]);   // same idempotency key each try
  EXPECT_THAT(outcomes, ElementsAre("webhook:retry", "pagerduty:failed", "webhook:retry",
                                    "webhook:sent"));
  std::vector<OutboxRow> rows = Rows();
  EXPECT_EQ(rows[0].state, "sent");
  EXPECT_EQ(rows[0].attempts, 3);
  EXPECT_EQ(rows[0].last_status, 200);
  EXPECT_EQ(rows[0].last_error, "");
  EXPECT_NE(rows[0].sent_at, 0);
  EXPECT_EQ(rows[1].state, "failed");             // 4xx: permanent
  EXPECT_EQ(rows[1].attempts, 1);
  EXPECT_EQ(rows[1].last_status, 400);
  EXPECT_EQ(rows[1].last_error, "HTTP 400: bad routing key");
}

TEST_P(AlertOutboxTest, SenderGivesUpAfterMaxAttempts) {
  AddRun("r1", "running", 0);
  ASSERT_OK(Fire(TaskEvent(sched::EventKind::kRetry, "r1", "up_for_retry")));
  ScriptedChannel slack(std::vector<DeliveryResult>(10, ClassifyHttpStatus(429, "")));
  SenderOptions so;
  so.max_attempts = 4;
  auto db = store::Db::Open(location_);
  AlertSender sender(std::move(*db), &clock_, so, {{"slack", &slack}});
  for (int i = 0; i < 10; ++i) {
    (void)sender.SendDue();
    clock_.Advance(absl::Minutes(10));
  }
  EXPECT_EQ(slack.delivered.size(), 4u);
  EXPECT_EQ(Rows()[0].state, "failed");
  EXPECT_EQ(Rows()[0].attempts, 4);
  EXPECT_EQ(Rows()[0].last_error, "HTTP 429");
}

TEST(AlertSenderTest, BackoffDoublesAndIsCapped) {
  SenderOptions o;
  EXPECT_EQ(Backoff(o, 1), absl::Seconds(1));
  EXPECT_EQ(Backoff(o, 2), absl::Seconds(2));
  EXPECT_EQ(Backoff(o, 3), absl::Seconds(4));
  EXPECT_EQ(Backoff(o, 9), absl::Seconds(256));
  EXPECT_EQ(Backoff(o, 10), absl::Minutes(5));
  EXPECT_EQ(Backoff(o, 1000), absl::Minutes(5));
}

TEST(AlertChannelTest, HttpStatusClassification) {
  EXPECT_TRUE(ClassifyHttpStatus(200, "").ok);
  EXPECT_TRUE(ClassifyHttpStatus(202, "").ok);
  EXPECT_TRUE(ClassifyHttpStatus(404, "").permanent);
  EXPECT_TRUE(ClassifyHttpStatus(400, "").permanent);
  EXPECT_FALSE(ClassifyHttpStatus(408, "").permanent);
  EXPECT_FALSE(ClassifyHttpStatus(429, "").permanent);
  EXPECT_FALSE(ClassifyHttpStatus(500, "").permanent);
  EXPECT_FALSE(ClassifyHttpStatus(302, "").ok);
  EXPECT_FALSE(ClassifyHttpStatus(302, "").permanent);
}

class RecordingPoster : public HttpPoster {
 public:
  HttpResponse Post(const std::string& url, const std::map<std::string, std::string>& headers,
                    const std::string& body, absl::Duration) override {
    this->url = url;
    this->headers = headers;
    this->body = body;
    return response;
  }
  std::string url, body;
  std::map<std::string, std::string> headers;
  HttpResponse response{200, "", ""};
};

TEST(AlertChannelTest, HttpChannelExpandsSecretsOnlyWhenSending) {
  setenv("DE_TEST_HOOK_PATH", "hook-s3cret", 1);
  setenv("DE_TEST_TOKEN", "tok-s3cret", 1);
  setenv("DE_TEST_PD_KEY", "pd-s3cret", 1);
  RecordingPoster poster;
  auto channel = NewHttpChannel(&poster);
  OutboxRow row;
  row.delivery_id = "id-1";
  row.event = "failure";
  row.channel = "webhook";
  row.target = R"({"url":"http://127.0.0.1:1/${DE_TEST_HOOK_PATH}","headers":{"X-Token":"${DE_TEST_TOKEN}"}})";
  row.body = R"({"version":1})";
  DeliveryResult r = channel->Deliver(row, absl::Seconds(1));
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(poster.url, "http://127.0.0.1:1/hook-s3cret");
  EXPECT_EQ(poster.headers["X-Token"], "tok-s3cret");
  EXPECT_EQ(poster.headers["X-De-Delivery-Id"], "id-1");
  EXPECT_EQ(poster.headers["Content-Type"], "application/json");
  EXPECT_EQ(poster.body, R"({"version":1})");

  row.channel = "pagerduty";
  row.target = R"({"routing_key":"${DE_TEST_PD_KEY}"})";
  row.body = R"({"routing_key":"${DE_TEST_PD_KEY}","event_action":"trigger","dedup_key":"k"})";
  poster.response = {0, "", "Could not connect to pd-s3cret"};
  r = channel->Deliver(row, absl::Seconds(1));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.permanent);
  EXPECT_EQ(r.error, "Could not connect to ***");   // expanded values never reach the record
  EXPECT_EQ(poster.url, kPagerDutyEventsUrl);
  EXPECT_EQ(json::parse(poster.body)["routing_key"], "pd-s3cret");

  row.channel = "slack";
  row.target = R"({"url":"${DE_TEST_UNSET_VAR}"})";
  unsetenv("DE_TEST_UNSET_VAR");
  r = channel->Deliver(row, absl::Seconds(1));
  EXPECT_TRUE(r.permanent);
  EXPECT_EQ(r.error,
            "slack url: environment variable DE_TEST_UNSET_VAR is not set in de-scheduler's "
            "environment");
}

TEST(AlertChannelTest, CommandGetsTheBodyOnStdinAndTimesOut) {
  TempDir dir;
  auto channel = NewCommandChannel();
  OutboxRow row;
  row.delivery_id = "id-2";
  row.event = "failure";
  row.dag_id = "d";
  row.run_id = "r1";
  row.channel = "command";
  json argv = {"/bin/sh", "-c", "cat > \"$0\"; echo \"$DE_ALERT_EVENT $DE_ALERT_DELIVERY_ID $DE_DAG\" >> \"$0\"",
               dir.File("out")};
  row.target = json{{"argv", argv}}.dump();
  row.body = R"({"event":"failure"})";
  DeliveryResult r = channel->Deliver(row, absl::Seconds(10));
  EXPECT_TRUE(r.ok) << r.error;
  std::ifstream in(dir.File("out"));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "{\"event\":\"failure\"}failure id-2 d\n");

  row.target = json{{"argv", {"/bin/sh", "-c", "echo nope >&2; exit 4"}}}.dump();
  r = channel->Deliver(row, absl::Seconds(10));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, 4);
  EXPECT_EQ(r.error, "command exited with 4: nope");

  row.target = json{{"argv", {"/bin/sh", "-c", "sleep 30"}}}.dump();
  absl::Time start = absl::Now();
  r = channel->Deliver(row, absl::Milliseconds(300));
  EXPECT_FALSE(r.ok);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(r.error, "command timed out after 300ms");
}

}  // namespace
}  // namespace de::alerts
