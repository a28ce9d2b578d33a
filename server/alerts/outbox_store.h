// The alert_outbox table (migrations/0004_alerts.sql): typed rows and the statements the outbox,
// the sender and `dectl alerts list` use. Stateless functions over a store::Db; a Db is used by
// one thread at a time (callers' rule).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/store/sqlite.h"

namespace de::alerts {

struct OutboxRow {
  int64_t id = 0;
  std::string delivery_id;
  std::string dag_id;
  std::string run_id;
  std::string task_id;
  std::string event;
  std::string channel;       // webhook slack pagerduty command
  std::string target;        // JSON, secrets as ${ENV}
  std::string body;
  std::string state = "pending";   // pending sent failed
  int attempts = 0;
  int64_t next_attempt_at = 0;
  std::optional<int> last_status;
  std::string last_error;
  int64_t created_at = 0;
  int64_t sent_at = 0;
};

// Inserts `row` (id is assigned; returns it).
absl::StatusOr<int64_t> InsertOutboxRow(store::Db* db, const OutboxRow& row);
// Pending rows due at `now_ms`, oldest first.
absl::StatusOr<std::vector<OutboxRow>> DueOutboxRows(store::Db* db, int64_t now_ms, int limit);
// The earliest next_attempt_at of a pending row, if any.
absl::StatusOr<std::optional<int64_t>> NextDueAt(store::Db* db);
// Records one attempt: state, attempts, next_attempt_at, last_status, last_error, sent_at.
absl::Status UpdateOutboxAttempt(store::Db* db, const OutboxRow& row);
// Newest first; `dag_id` empty = all DAGs; `failed_only` = state failed.
absl::StatusOr<std::vector<OutboxRow>> ListOutboxRows(store::Db* db, const std::string& dag_id,
                                                      bool failed_only, int limit);

}  // namespace de::alerts
