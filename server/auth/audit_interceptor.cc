#include "server/auth/audit_interceptor.h"

#include <grpcpp/grpcpp.h>

#include "server/auth/audit_args.h"
#include "server/auth/method_roles.h"
#include "spdlog/spdlog.h"

namespace de::auth {
namespace {

using grpc::experimental::InterceptionHookPoints;

std::string CodeName(grpc::StatusCode code) {
  static const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                 "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                                 "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
                                 "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  int c = static_cast<int>(code);
  return c >= 0 && c <= 16 ? kNames[c] : std::to_string(c);
}

std::string Property(const grpc::ServerContextBase* ctx, const char* name) {
  auto auth = ctx->auth_context();
  if (!auth) return "";
  auto values = auth->FindPropertyValues(name);
  return values.empty() ? "" : std::string(values.front().data(), values.front().size());
}

class AuditInterceptor : public grpc::experimental::Interceptor {
 public:
  AuditInterceptor(AuditLog* log, grpc::experimental::ServerRpcInfo* info)
      : log_(log), info_(info) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      const auto* req = static_cast<const google::protobuf::Message*>(m->GetRecvMessage());
      if (req != nullptr) Begin(*req);
    }
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE) &&
        row_.dag_id.empty()) {
      const auto* resp = static_cast<const google::protobuf::Message*>(m->GetSendMessage());
      if (resp != nullptr) dag_from_response_ = DagIdOf(*resp);
    }
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Finish(m->GetSendStatus());
    }
    m->Proceed();
  }

 private:
  void Begin(const google::protobuf::Message& req) {
    const grpc::ServerContextBase* ctx = info_->server_context();
    std::string who = Property(ctx, kCallerProperty);
    row_.who = who.empty() ? "anonymous" : who;
    row_.role = Property(ctx, kRoleProperty);
    row_.peer = ctx->peer();
    std::string method = info_->method();
    row_.method = method.substr(method.rfind('/') + 1);
    row_.dag_id = DagIdOf(req);
    row_.args = AuditArgs(req);
    auto id = log_->Begin(row_);
    if (!id.ok()) {
      spdlog::error("audit: cannot record {} by {}: {}", row_.method, row_.who,
                    std::string(id.status().message()));
      return;
    }
    id_ = *id;
  }

  void Finish(const grpc::Status& status) {
    const std::string outcome = status.ok() ? "ok" : CodeName(status.error_code());
    if (id_ == 0) {   // Begin could not write: try once more, now with the outcome
      row_.outcome = outcome;
      row_.error = status.error_message();
      if (row_.dag_id.empty()) row_.dag_id = dag_from_response_;
      auto id = log_->Begin(row_);
      if (!id.ok()) spdlog::error("audit: cannot record {}: {}", row_.method, std::string(id.status().message()));
      return;
    }
    absl::Status st = log_->Finish(id_, dag_from_response_, outcome, status.error_message());
    if (!st.ok()) spdlog::error("audit: cannot complete row {}: {}", id_, std::string(st.message()));
  }

  AuditLog* log_;
  grpc::experimental::ServerRpcInfo* info_;
  AuditRow row_;
  int64_t id_ = 0;
  std::string dag_from_response_;
};

}  // namespace

grpc::experimental::Interceptor* AuditInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  std::optional<MethodRule> rule = LookupMethod(info->method());
  if (!rule || !rule->mutating) return nullptr;
  return new AuditInterceptor(log_, info);
}

}  // namespace de::auth
