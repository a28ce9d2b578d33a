// Golden bodies of the alert channels (webhook v1, Slack, PagerDuty Events v2), log tails,
// delivery ids and ${ENV} expansion.
#include <cstdlib>
#include <fstream>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/alerts/env.h"
#include "server/alerts/payload.h"
#include "tests/unit/server/test_util.h"

namespace de::alerts {
namespace {

using nlohmann::json;

AlertPayload Failure() {
  AlertPayload p;
  p.delivery_id = "0b7e5c1e-2f43-4c1a-9d7e-3a5b6c7d8e9f";
  p.event = "failure";
  p.at_ms = 1704168245000;   // 2024-01-02T04:04:05Z
  p.dag = "flights_daily";
  p.dag_version = 3;
  p.run_id = "scheduled__2024-01-01T00:00:00";
  p.run_type = "scheduled";
  p.task = "convert";
  p.attempt = 2;
  p.state = "failed";
  p.logical_date_ms = 1704067200000;     // 2024-01-01
  p.interval_start_ms = 1704067200000;
  p.interval_end_ms = 1704153600000;     // 2024-01-02
  p.reason = "exit code 1";
  p.log_tail = "reading <input> & co\nboom";
  p.link = "http://127.0.0.1:9464/runs/scheduled__2024-01-01T00:00:00";
  return p;
}

TEST(AlertPayloadTest, WebhookBodyGolden) {
  json expected = json::parse(R"js({
    "version": 1,
    "delivery_id": "0b7e5c1e-2f43-4c1a-9d7e-3a5b6c7d8e9f",
    "event": "failure",
    "at": "2024-01-02T04:04:05.000Z",
    "dag": "flights_daily",
    "dag_version": 3,
    "run": "scheduled__2024-01-01T00:00:00",
    "run_type": "scheduled",
    "task": "convert",
    "attempt": 2,
    "state": "failed",
    "logical_date": "2024-01-01T00:00:00.000Z",
    "interval": {"start": "2024-01-01T00:00:00.000Z", "end": "2024-01-02T00:00:00.000Z"},
    "deadline": null,
    "previous_run": null,
    "reason": "exit code 1",
    "log_tail": "reading <input> & co\nboom",
    "link": "http://127.0.0.1:9464/runs/scheduled__2024-01-01T00:00:00",
    "summary": "de: flights_daily run scheduled__2024-01-01T00:00:00: run failed (exit code 1)"
  })js");
  EXPECT_EQ(json::parse(WebhookBody(Failure())), expected) << WebhookBody(Failure());
}

TEST(AlertPayloadTest, WebhookBodyOfARunEventHasNulls) {
  AlertPayload p;
  p.delivery_id = "d";
  p.event = "deadline_miss";
  p.dag = "x";
  p.run_id = "r";
  p.deadline_ms = 1704153600000;
  json j = json::parse(WebhookBody(p));
  EXPECT_TRUE(j["task"].is_null());
  EXPECT_TRUE(j["attempt"].is_null());
  EXPECT_TRUE(j["log_tail"].is_null());
  EXPECT_EQ(j["deadline"], "2024-01-02T00:00:00.000Z");
  EXPECT_EQ(j["summary"], "de: x run r: missed its deadline 2024-01-02T00:00:00.000Z");
}

TEST(AlertPayloadTest, SlackBodyGolden) {
  json expected = json::parse(R"js({
    "text": ":red_circle: de: flights_daily run scheduled__2024-01-01T00:00:00: run failed (exit code 1)",
    "blocks": [
      {"type": "section", "text": {"type": "mrkdwn",
        "text": ":red_circle: *failure* in `flights_daily` run `scheduled__2024-01-01T00:00:00`"}},
      {"type": "section", "fields": [
        {"type": "mrkdwn", "text": "*Task*\nconvert (attempt 2)"},
        {"type": "mrkdwn", "text": "*State*\nfailed"},
        {"type": "mrkdwn", "text": "*Interval*\n2024-01-01T00:00:00.000Z to 2024-01-02T00:00:00.000Z"},
        {"type": "mrkdwn", "text": "*Reason*\nexit code 1"}]},
      {"type": "section", "text": {"type": "mrkdwn",
        "text": "```reading &lt;input&gt; &amp; co\nboom```"}},
      {"type": "context", "elements": [{"type": "mrkdwn",
        "text": "<http://127.0.0.1:9464/runs/scheduled__2024-01-01T00:00:00|open run> · delivery 0b7e5c1e-2f43-4c1a-9d7e-3a5b6c7d8e9f"}]}
    ]
  })js");
  EXPECT_EQ(json::parse(SlackBody(Failure())), expected) << SlackBody(Failure());
}

TEST(AlertPayloadTest, PagerDutyTriggerGolden) {
  AlertPayload p = Failure();
  std::string body = PagerDutyBody(p, PagerDutyAction(p.event),
                                   PagerDutyDedupKey(p.dag, p.run_id), "${PD_KEY}");
  json expected = json::parse(R"js({
    "routing_key": "${PD_KEY}",
    "event_action": "trigger",
    "dedup_key": "de/flights_daily/scheduled__2024-01-01T00:00:00",
    "payload": {
      "summary": "de: flights_daily run scheduled__2024-01-01T00:00:00: run failed (exit code 1)",
      "source": "de-scheduler",
      "severity": "error",
      "timestamp": "2024-01-02T04:04:05.000Z",
      "component": "flights_daily",
      "group": "convert",
      "class": "failure",
      "custom_details": {
        "event": "failure", "dag": "flights_daily", "run": "scheduled__2024-01-01T00:00:00",
        "run_type": "scheduled", "task": "convert", "attempt": 2, "state": "failed",
        "logical_date": "2024-01-01T00:00:00.000Z",
        "interval": {"start": "2024-01-01T00:00:00.000Z", "end": "2024-01-02T00:00:00.000Z"},
        "reason": "exit code 1", "log_tail": "reading <input> & co\nboom",
        "delivery_id": "0b7e5c1e-2f43-4c1a-9d7e-3a5b6c7d8e9f"
      }
    },
    "client": "de",
    "client_url": "http://127.0.0.1:9464/runs/scheduled__2024-01-01T00:00:00",
    "links": [{"href": "http://127.0.0.1:9464/runs/scheduled__2024-01-01T00:00:00",
               "text": "run scheduled__2024-01-01T00:00:00"}]
  })js");
  EXPECT_EQ(json::parse(body), expected) << body;
}

TEST(AlertPayloadTest, PagerDutyResolveGolden) {
  AlertPayload p = Failure();
  p.event = "recovered";
  EXPECT_EQ(PagerDutyAction("recovered"), "resolve");
  EXPECT_EQ(PagerDutyAction("success"), "resolve");
  EXPECT_EQ(PagerDutyAction("deadline_miss"), "trigger");
  std::string body = PagerDutyBody(p, "resolve", PagerDutyDedupKey("flights_daily", "r1"), "K");
  EXPECT_EQ(json::parse(body), json::parse(R"js({"routing_key": "K", "event_action": "resolve",
                                                "dedup_key": "de/flights_daily/r1"})js"));
}

TEST(AlertPayloadTest, BodiesAreValidJsonForAnyText) {
  AlertPayload p = Failure();
  p.reason = std::string("bad \xff utf8 \"quoted\" \x01 control");
  p.log_tail = std::string(10000, 'x') + "\n```end```";
  for (const std::string& body :
       {WebhookBody(p), SlackBody(p), PagerDutyBody(p, "trigger", "k", "r")}) {
    EXPECT_NO_THROW((void)json::parse(body)) << body.substr(0, 200);
  }
  json slack = json::parse(SlackBody(p));
  for (const auto& block : slack["blocks"]) {
    if (block.contains("text")) EXPECT_LE(block["text"]["text"].get<std::string>().size(), 3000u);
  }
}

TEST(AlertPayloadTest, LogTailKeepsTheLastLines) {
  testing_util::TempDir dir;
  std::string path = dir.File("1.log");
  {
    std::ofstream f(path);
    for (int i = 1; i <= 30; ++i) f << "line " << i << "\n";
  }
  std::string tail = ReadLogTail(path, 20);
  EXPECT_EQ(tail.substr(0, 8), "line 11\n");
  EXPECT_EQ(tail.substr(tail.size() - 7), "line 30");
  EXPECT_EQ(ReadLogTail(path, 2), "line 29\nline 30");
  EXPECT_EQ(ReadLogTail(dir.File("missing.log")), "");
  std::string small_window = ReadLogTail(path, 20, 20);   // cut mid-line: partial line dropped
  EXPECT_EQ(small_window, "line 29\nline 30");
}

TEST(AlertPayloadTest, DeliveryIdsAreUuidsAndUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewDeliveryId();
    ASSERT_EQ(id.size(), 36u) << id;
    EXPECT_EQ(id[14], '4') << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(AlertEnvTest, ExpandsAndReportsWithoutValues) {
  setenv("DE_TEST_SECRET", "s3cr3t", 1);
  unsetenv("DE_TEST_UNSET");
  std::vector<std::string> secrets;
  auto v = ExpandEnv("https://h/${DE_TEST_SECRET}/x", &secrets);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, "https://h/s3cr3t/x");
  EXPECT_THAT(secrets, ::testing::ElementsAre("s3cr3t"));
  EXPECT_EQ(Redact("failed to reach https://h/s3cr3t/x", secrets),
            "failed to reach https://h/***/x");
  EXPECT_EQ(*ExpandEnv("no refs $HOME {x}"), "no refs $HOME {x}");
  auto unset = ExpandEnv("${DE_TEST_UNSET}");
  ASSERT_FALSE(unset.ok());
  EXPECT_EQ(unset.status().message(),
            "environment variable DE_TEST_UNSET is not set in de-scheduler's environment");
  EXPECT_FALSE(ExpandEnv("${unterminated").ok());
  EXPECT_FALSE(ExpandEnv("${}").ok());
  EXPECT_FALSE(ExpandEnv("${A-B}").ok());
}

}  // namespace
}  // namespace de::alerts
