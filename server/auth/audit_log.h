// The audit trail: one row per call that changes something (who, when, from where, what, and
// the outcome), in the scheduler's database. A row is written before the change runs (outcome
// "pending") and completed after it, so a change that happened always has its row. Own SQLite
// connection; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "server/store/sqlite.h"

namespace de::auth {

struct AuditRow {
  int64_t id = 0;
  int64_t at = 0;          // ms
  std::string who;
  std::string role;
  std::string peer;
  std::string method;
  std::string dag_id;
  std::string args;        // JSON
  std::string outcome = "pending";
  std::string error;
};

class AuditLog {
 public:
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& db_path,
                                                        const common::Clock* clock);
  // Inserts `row` (stamped now, outcome pending); returns its id.
  absl::StatusOr<int64_t> Begin(AuditRow row);
  absl::Status Finish(int64_t id, const std::string& dag_id, const std::string& outcome,
                      const std::string& error);
  // Newest first; since_ms 0 = all, dag_id empty = every DAG, limit 0 = 100.
  absl::StatusOr<std::vector<AuditRow>> List(int64_t since_ms, const std::string& dag_id,
                                             int limit);

 private:
  AuditLog(std::unique_ptr<store::Db> db, const common::Clock* clock)
      : db_(std::move(db)), clock_(clock) {}
  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
  const common::Clock* clock_;
};

}  // namespace de::auth
