// The operator calls about alerts (dectl alerts list | test): reads and writes the outbox through
// its own SQLite connection, so they never take the scheduling lock. Thread-safe (a mutex guards
// the connection).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "de/v1/operator.pb.h"
#include "server/alerts/outbox.h"
#include "server/store/sqlite.h"

namespace de::alerts {

class AlertService {
 public:
  // `outbox` (not owned) writes the test deliveries; `db_path` is the scheduler's database.
  AlertService(std::string db_path, AlertOutbox* outbox);

  absl::StatusOr<v1::ListAlertsResponse> ListAlerts(const v1::ListAlertsRequest& req);
  absl::StatusOr<v1::TestAlertResponse> TestAlert(const v1::TestAlertRequest& req);

 private:
  absl::StatusOr<store::Db*> Db() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string db_path_;
  AlertOutbox* outbox_;
  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
};

// The API form of an outbox row (without its target and body).
v1::AlertDelivery ToProto(const OutboxRow& row);

}  // namespace de::alerts
