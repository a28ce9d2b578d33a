// The alert sender: its own thread and its own SQLite connection to the scheduler's database.
// It picks due `pending` outbox rows, delivers each through its channel with a timeout, and
// records the attempt: sent; or pending again after an exponential backoff (first retry after
// `first_backoff`, doubling, capped at `max_backoff`); or failed after `max_attempts` tries or a
// permanent error. Rows left pending by a crash are sent after a restart (same delivery id).
// The scheduler never waits for it. Thread-safe: Wake() from any thread; SendDue() from one.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "server/alerts/channel.h"
#include "server/store/sqlite.h"

namespace de::alerts {

struct SenderOptions {
  int max_attempts = 10;                          // --alert-max-attempts
  absl::Duration timeout = absl::Seconds(10);     // --alert-timeout: per delivery
  absl::Duration first_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(5);
  int batch = 50;                                 // rows per pass
  // Called after every attempt with the channel and the outcome: "sent", "retry" or "failed"
  // (the hook for de_alert_deliveries_total{channel,outcome}).
  std::function<void(const std::string& channel, const std::string& outcome)> on_attempt;
  // Called before each pass reads the outbox: returns once every transition committed so far is
  // on disk (an error: it never will be), so no alert tells of one a power cut could undo.
  std::function<absl::Status()> await_durable;
};

// The delay before attempt `attempts + 1`, after `attempts` failed ones (attempts >= 1).
absl::Duration Backoff(const SenderOptions& o, int attempts);

class AlertSender {
 public:
  // `channels` maps channel names (webhook slack pagerduty command) to their implementation.
  AlertSender(std::unique_ptr<store::Db> db, const common::Clock* clock, SenderOptions options,
              std::map<std::string, AlertChannel*> channels);
  ~AlertSender();   // stops the thread

  // Opens `db_path` and sends through the real channels (libcurl and commands).
  static absl::StatusOr<std::unique_ptr<AlertSender>> Open(const std::string& db_path,
                                                           const common::Clock* clock,
                                                           SenderOptions options);

  void Start();
  void Stop();
  // Asks the thread to look for due rows now (e.g. after rows were committed).
  void Wake();
  // One pass: delivers every due row (at most options.batch); returns how many were attempted.
  absl::StatusOr<int> SendDue();

 private:
  void Loop();

  std::unique_ptr<store::Db> db_;    // used by the sending thread (or a test) only
  const common::Clock* clock_;
  const SenderOptions options_;
  std::map<std::string, AlertChannel*> channels_;
  std::unique_ptr<HttpPoster> owned_poster_;
  std::unique_ptr<AlertChannel> owned_http_;
  std::unique_ptr<AlertChannel> owned_command_;

  absl::Mutex mu_;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace de::alerts
