#include "server/auth/audit_record.h"

#include "server/auth/audit_args.h"
#include "spdlog/spdlog.h"

namespace de::auth {

AuditRecord::AuditRecord(AuditLog* log, std::string who, std::string role, std::string peer,
                         std::string method, const google::protobuf::Message& request)
    : log_(log) {
  row_.who = who.empty() ? "anonymous" : std::move(who);
  row_.role = std::move(role);
  row_.peer = std::move(peer);
  row_.method = std::move(method);
  row_.dag_id = DagIdOf(request);
  row_.args = AuditArgs(request);
  absl::StatusOr<int64_t> id = log_->Begin(row_);
  if (!id.ok()) {
    spdlog::error("audit: cannot record {} by {}: {}", row_.method, row_.who,
                  std::string(id.status().message()));
    return;
  }
  id_ = *id;
}

void AuditRecord::Finish(const absl::Status& status, const std::string& dag_id) {
  const std::string outcome = status.ok() ? "ok" : absl::StatusCodeToString(status.code());
  const std::string error(status.message());
  if (id_ == 0) {  // the pending row could not be written: try once more, with the outcome
    row_.outcome = outcome;
    row_.error = error;
    if (row_.dag_id.empty()) row_.dag_id = dag_id;
    absl::StatusOr<int64_t> id = log_->Begin(row_);
    if (!id.ok()) {
      spdlog::error("audit: cannot record {}: {}", row_.method, std::string(id.status().message()));
    }
    return;
  }
  absl::Status st = log_->Finish(id_, dag_id, outcome, error);
  if (!st.ok()) spdlog::error("audit: cannot complete row {}: {}", id_, std::string(st.message()));
}

}  // namespace de::auth
