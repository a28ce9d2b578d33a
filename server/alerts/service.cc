#include "server/alerts/service.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace de::alerts {

v1::AlertDelivery ToProto(const OutboxRow& row) {
  v1::AlertDelivery a;
  a.set_id(row.id);
  a.set_delivery_id(row.delivery_id);
  a.set_dag_id(row.dag_id);
  a.set_run_id(row.run_id);
  a.set_task_id(row.task_id);
  a.set_event(row.event);
  a.set_channel(row.channel);
  a.set_state(row.state);
  a.set_attempts(row.attempts);
  a.set_next_attempt_at_ms(row.state == "pending" ? row.next_attempt_at : 0);
  a.set_last_status(row.last_status.value_or(0));
  a.set_last_error(row.last_error);
  a.set_created_at_ms(row.created_at);
  a.set_sent_at_ms(row.sent_at);
  return a;
}

AlertService::AlertService(std::string db_path, AlertOutbox* outbox)
    : db_path_(std::move(db_path)), outbox_(outbox) {}

absl::StatusOr<store::Db*> AlertService::Db() {
  if (!db_) {
    DE_ASSIGN_OR_RETURN(db_, store::Db::Open(db_path_));
  }
  return db_.get();
}

absl::StatusOr<v1::ListAlertsResponse> AlertService::ListAlerts(const v1::ListAlertsRequest& req) {
  if (req.limit() < 0) return absl::InvalidArgumentError("limit must not be negative");
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(store::Db * db, Db());
  std::vector<OutboxRow> rows;
  {
    store::ReadTransaction snapshot(db);
    DE_ASSIGN_OR_RETURN(rows, ListOutboxRows(db, req.dag_id(), req.failed_only(),
                                             req.limit() == 0 ? 100 : req.limit()));
  }
  v1::ListAlertsResponse resp;
  for (const auto& r : rows) *resp.add_alerts() = ToProto(r);
  return resp;
}

absl::StatusOr<v1::TestAlertResponse> AlertService::TestAlert(const v1::TestAlertRequest& req) {
  if (req.dag_id().empty()) return absl::InvalidArgumentError("dag_id is required");
  absl::MutexLock lock(&mu_);
  DE_ASSIGN_OR_RETURN(store::Db * db, Db());
  DE_ASSIGN_OR_RETURN(auto rows, outbox_->EnqueueTest(req.dag_id(), db));
  v1::TestAlertResponse resp;
  for (const auto& r : rows) *resp.add_alerts() = ToProto(r);
  return resp;
}

}  // namespace de::alerts
