// One mutating call's audit row, recorded the same way for the gRPC API (audit_interceptor.cc)
// and the HTTP actions (http/api_actions.cc): the constructor writes the row with outcome
// "pending" before the change runs, Finish() completes it with the outcome ("ok" or the status
// code's name, e.g. NOT_FOUND) and the error message. If the pending row could not be written,
// Finish() writes the whole row once more with its outcome. A failure to record is logged and
// never fails the call. Calls the auth check refused never get here (they are only logged).
// One object per call; not thread-safe (the AuditLog is).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "server/auth/audit_log.h"

namespace de::auth {

class AuditRecord {
 public:
  // `who`/`role`: the caller as the auth check found it (empty who = "anonymous"); `peer` as
  // gRPC names peers ("ipv4:127.0.0.1:51234"); `method` the gRPC method's short name
  // ("Trigger"); `request` its request message (its arguments, see audit_args.h, and DAG).
  AuditRecord(AuditLog* log, std::string who, std::string role, std::string peer,
              std::string method, const google::protobuf::Message& request);
  AuditRecord(const AuditRecord&) = delete;
  AuditRecord& operator=(const AuditRecord&) = delete;

  // `dag_id` fills the row's DAG when the request named none (e.g. CancelRun's run's DAG).
  void Finish(const absl::Status& status, const std::string& dag_id);

 private:
  AuditLog* log_;
  AuditRow row_;
  int64_t id_ = 0;  // 0: the pending row was not written
};

}  // namespace de::auth
