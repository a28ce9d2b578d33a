// Alert channels: how one outbox row is delivered. The HTTP channels (webhook, slack, pagerduty)
// POST the row's body through an HttpPoster (libcurl in production, a fake in tests); the command
// channel runs an argv with the body on stdin. `${ENV}` references in the target are expanded
// here, at send time, and expanded values are redacted from every error text.
// Implementations are stateless between calls; one sender thread uses them.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "server/alerts/outbox_store.h"

namespace de::alerts {

// The default PagerDuty Events API v2 endpoint.
inline constexpr char kPagerDutyEventsUrl[] = "https://events.pagerduty.com/v2/enqueue";

struct DeliveryResult {
  bool ok = false;
  bool permanent = false;          // retrying cannot help (4xx other than 408/429, bad config)
  std::optional<int> status;       // HTTP status, or the command's exit code
  std::string error;               // empty when ok
};

// 2xx: ok; 4xx other than 408 and 429: permanent failure; anything else: retry.
DeliveryResult ClassifyHttpStatus(int status, const std::string& response_excerpt);

struct HttpResponse {
  int status = 0;              // 0 when no response came (then `error` says why)
  std::string body;            // first few KB
  std::string error;
};

class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  virtual HttpResponse Post(const std::string& url, const std::map<std::string, std::string>& headers,
                            const std::string& body, absl::Duration timeout) = 0;
};

// libcurl, http and https only, no redirects, no signals. Thread-compatible.
std::unique_ptr<HttpPoster> NewCurlPoster();

class AlertChannel {
 public:
  virtual ~AlertChannel() = default;
  virtual DeliveryResult Deliver(const OutboxRow& row, absl::Duration timeout) = 0;
};

// webhook, slack and pagerduty rows (by row.channel). Does not own `poster`.
std::unique_ptr<AlertChannel> NewHttpChannel(HttpPoster* poster);
// command rows: argv from the target, body on stdin, environment DE_ALERT_EVENT,
// DE_ALERT_DELIVERY_ID, DE_DAG, DE_RUN_ID, DE_TASK; killed (its process group) at the timeout.
// Exit 0 is success; anything else is retried.
std::unique_ptr<AlertChannel> NewCommandChannel();

}  // namespace de::alerts
