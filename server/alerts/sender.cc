#include "server/alerts/sender.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/alerts/outbox_store.h"
#include "spdlog/spdlog.h"

namespace de::alerts {

absl::Duration Backoff(const SenderOptions& o, int attempts) {
  absl::Duration d = o.first_backoff;
  for (int i = 1; i < attempts && d < o.max_backoff; ++i) d *= 2;
  return std::min(d, o.max_backoff);
}

AlertSender::AlertSender(std::unique_ptr<store::Db> db, const common::Clock* clock,
                         SenderOptions options, std::map<std::string, AlertChannel*> channels)
    : db_(std::move(db)), clock_(clock), options_(std::move(options)),
      channels_(std::move(channels)) {}

AlertSender::~AlertSender() { Stop(); }

absl::StatusOr<std::unique_ptr<AlertSender>> AlertSender::Open(const std::string& db_path,
                                                               const common::Clock* clock,
                                                               SenderOptions options) {
  DE_ASSIGN_OR_RETURN(auto db, store::Db::Open(db_path));
  auto poster = NewCurlPoster();
  auto http = NewHttpChannel(poster.get());
  auto command = NewCommandChannel();
  std::map<std::string, AlertChannel*> channels = {{"webhook", http.get()},
                                                   {"slack", http.get()},
                                                   {"pagerduty", http.get()},
                                                   {"command", command.get()}};
  auto sender = std::make_unique<AlertSender>(std::move(db), clock, std::move(options),
                                              std::move(channels));
  sender->owned_poster_ = std::move(poster);
  sender->owned_http_ = std::move(http);
  sender->owned_command_ = std::move(command);
  return sender;
}

void AlertSender::Start() { thread_ = std::thread([this] { Loop(); }); }

void AlertSender::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void AlertSender::Wake() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

absl::StatusOr<int> AlertSender::SendDue() {
  if (options_.await_durable) DE_RETURN_IF_ERROR(options_.await_durable());
  const int64_t now = common::ToMillis(clock_->Now());
  std::vector<OutboxRow> rows;
  {
    store::ReadTransaction snapshot(db_.get());
    DE_ASSIGN_OR_RETURN(rows, DueOutboxRows(db_.get(), now, options_.batch));
  }
  int attempted = 0;
  for (OutboxRow& row : rows) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) break;
    }
    DeliveryResult r;
    auto it = channels_.find(row.channel);
    if (it == channels_.end()) {
      r.permanent = true;
      r.error = absl::StrCat("unknown alert channel '", row.channel, "'");
    } else {
      r = it->second->Deliver(row, options_.timeout);
    }
    ++attempted;
    const int64_t done = common::ToMillis(clock_->Now());
    row.attempts += 1;
    row.last_status = r.status;
    row.last_error = r.error;
    std::string outcome;
    if (r.ok) {
      row.state = "sent";
      row.sent_at = done;
      outcome = "sent";
    } else if (r.permanent || row.attempts >= options_.max_attempts) {
      row.state = "failed";
      outcome = "failed";
    } else {
      row.next_attempt_at = done + absl::ToInt64Milliseconds(Backoff(options_, row.attempts));
      outcome = "retry";
    }
    absl::Status st = UpdateOutboxAttempt(db_.get(), row);
    if (!st.ok()) return st;
    if (r.ok) {
      spdlog::info("alert {} sent: dag={} run={} channel={} delivery={} attempt={}", row.event,
                   row.dag_id, row.run_id, row.channel, row.delivery_id, row.attempts);
    } else {
      spdlog::warn("alert {} {}: dag={} run={} channel={} delivery={} attempt={}: {}", row.event,
                   outcome == "failed" ? "failed for good" : "not delivered, will retry",
                   row.dag_id, row.run_id, row.channel, row.delivery_id, row.attempts, r.error);
    }
    if (options_.on_attempt) options_.on_attempt(row.channel, outcome);
  }
  return attempted;
}

void AlertSender::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      wake_ = false;
    }
    auto sent = SendDue();
    if (!sent.ok()) spdlog::error("alert sender: {}", std::string(sent.status().message()));
    // Sleep until the next row is due, a wake-up, or at most a second (rows written by another
    // connection, such as dectl alerts test, are found by this poll too).
    absl::Duration wait = absl::Seconds(1);
    if (sent.ok() && *sent >= options_.batch) wait = absl::ZeroDuration();
    auto next = NextDueAt(db_.get());
    if (next.ok() && next->has_value()) {
      absl::Duration until = absl::FromUnixMillis(**next) - clock_->Now();
      wait = std::clamp(until, absl::ZeroDuration(), wait);
    }
    absl::MutexLock lock(&mu_);
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wake_ || stop_; };
    mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
  }
}

}  // namespace de::alerts
