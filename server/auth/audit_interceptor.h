// The gRPC server interceptor that writes the audit trail: for every method the role table marks
// as mutating, a row before the handler runs (who from the auth processor's decision, the peer,
// the request's arguments) and its outcome when the status is sent. The AuditLog must outlive
// the server. Thread-safe.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include "server/auth/audit_log.h"

namespace de::auth {

// Names the auth processor puts into each call's auth context.
inline constexpr char kCallerProperty[] = "de_caller";
inline constexpr char kRoleProperty[] = "de_role";

class AuditInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AuditInterceptorFactory(AuditLog* log) : log_(log) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  AuditLog* log_;
};

}  // namespace de::auth
