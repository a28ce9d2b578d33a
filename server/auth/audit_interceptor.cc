#include "server/auth/audit_interceptor.h"

#include <grpcpp/grpcpp.h>

#include <optional>

#include "server/auth/audit_args.h"
#include "server/auth/audit_record.h"
#include "server/auth/method_roles.h"

namespace de::auth {
namespace {

using grpc::experimental::InterceptionHookPoints;

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
      if (req != nullptr && !record_) Begin(*req);
    }
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      const auto* resp = static_cast<const google::protobuf::Message*>(m->GetSendMessage());
      if (resp != nullptr) dag_from_response_ = DagIdOf(*resp);
    }
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) && record_) {
      const grpc::Status status = m->GetSendStatus();
      record_->Finish(absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                                   status.error_message()),
                      dag_from_response_);
    }
    m->Proceed();
  }

 private:
  void Begin(const google::protobuf::Message& req) {
    const grpc::ServerContextBase* ctx = info_->server_context();
    const std::string method = info_->method();
    record_.emplace(log_, Property(ctx, kCallerProperty), Property(ctx, kRoleProperty),
                    ctx->peer(), method.substr(method.rfind('/') + 1), req);
  }

  AuditLog* log_;
  grpc::experimental::ServerRpcInfo* info_;
  std::optional<AuditRecord> record_;   // from the request's arrival
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
