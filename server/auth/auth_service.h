// The Auth gRPC service: token create/list/revoke and the audit listing. Thin adapter over
// TokenStore and AuditLog (both must outlive it). Thread-safe.
#pragma once

#include "de/v1/auth.grpc.pb.h"
#include "server/auth/audit_log.h"
#include "server/auth/token_store.h"

namespace de::auth {

class AuthService final : public v1::Auth::Service {
 public:
  AuthService(TokenStore* tokens, AuditLog* audit) : tokens_(tokens), audit_(audit) {}
  grpc::Status CreateToken(grpc::ServerContext*, const v1::CreateTokenRequest*,
                           v1::CreateTokenResponse*) override;
  grpc::Status ListTokens(grpc::ServerContext*, const v1::ListTokensRequest*,
                          v1::ListTokensResponse*) override;
  grpc::Status RevokeToken(grpc::ServerContext*, const v1::RevokeTokenRequest*,
                           v1::RevokeTokenResponse*) override;
  grpc::Status ListAudit(grpc::ServerContext*, const v1::ListAuditRequest*,
                         v1::ListAuditResponse*) override;

 private:
  TokenStore* tokens_;
  AuditLog* audit_;
};

}  // namespace de::auth
