// What an alert says, and the exact bodies sent for it: the webhook JSON (versioned, documented
// in README "Alerts"), Slack's incoming-webhook message and PagerDuty Events API v2 events.
// Pure functions over plain values; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace de::alerts {

// Version of the webhook body (field "version"); bumped on any incompatible change.
inline constexpr int kWebhookBodyVersion = 1;

struct AlertPayload {
  std::string delivery_id;       // unique per delivery: the X-De-Delivery-Id idempotency key
  std::string event;             // failure task_failure retry success recovered deadline_miss
                                 // wait_timeout lease_lost, or test (dectl alerts test)
  int64_t at_ms = 0;             // when the event happened
  std::string dag;
  int dag_version = 0;
  std::string run_id;            // empty for a test event
  std::string run_type;          // manual scheduled backfill
  std::string task;              // empty for run events
  int attempt = 0;               // the task's try number; 0 = not about one attempt
  std::string state;             // the run's or task's state after the event
  int64_t logical_date_ms = 0;
  int64_t interval_start_ms = 0;
  int64_t interval_end_ms = 0;
  int64_t deadline_ms = 0;       // deadline_miss: the deadline that passed
  std::string reason;            // error or reason text
  std::string previous_run_id;   // recovered: the failed run before this success
  std::string log_tail;          // last lines of the task's log (failure, task_failure, retry)
  std::string link;              // where to look at the run
};

// "2024-01-02T03:04:05.000Z"; "" for 0.
std::string IsoTime(int64_t ms);

// The webhook body (and the command's stdin): a JSON object, see README "Alerts".
std::string WebhookBody(const AlertPayload& p);

// Slack incoming-webhook body: {"text": ..., "blocks": [...]} (mrkdwn, escaped).
std::string SlackBody(const AlertPayload& p);

// PagerDuty Events API v2. `action` is "trigger" or "resolve"; `dedup_key` groups a run's events
// into one incident (PagerDutyDedupKey). `routing_key` is what the body carries (the outbox
// stores the unexpanded ${ENV} reference; the sender puts in the real key).
std::string PagerDutyBody(const AlertPayload& p, const std::string& action,
                          const std::string& dedup_key, const std::string& routing_key);
// "de/DAG/RUN".
std::string PagerDutyDedupKey(const std::string& dag, const std::string& run_id);
// trigger, or resolve for success and recovered.
std::string PagerDutyAction(const std::string& event);

// One line for humans (logs, Slack's fallback text, PagerDuty's summary).
std::string Summary(const AlertPayload& p);

// The last `max_lines` lines of the file (at most `max_bytes` read from its end); "" if missing.
std::string ReadLogTail(const std::string& path, int max_lines = 20, int64_t max_bytes = 8192);

// A random UUID (version 4) in its 8-4-4-4-12 text form.
std::string NewDeliveryId();

}  // namespace de::alerts
