#include "server/auth/auth_service.h"

#include "absl/strings/str_cat.h"
#include "server/api/grpc_status.h"

namespace de::auth {
namespace {

void Fill(const Token& t, v1::TokenInfo* out) {
  out->set_name(t.name);
  out->set_role(std::string(RoleName(t.role)));
  out->set_created_at_ms(t.created_at);
  out->set_expires_at_ms(t.expires_at);
  out->set_last_used_at_ms(t.last_used_at);
}

}  // namespace

grpc::Status AuthService::CreateToken(grpc::ServerContext*, const v1::CreateTokenRequest* req,
                                      v1::CreateTokenResponse* resp) {
  std::optional<Role> role = ParseRole(req->role());
  if (!role) {
    return api::ToGrpc(absl::InvalidArgumentError(absl::StrCat(
        "unknown role '", req->role(), "' (roles: admin, operator, viewer, worker)")));
  }
  if (req->expires_in_ms() < 0) {
    return api::ToGrpc(absl::InvalidArgumentError("expiry must be positive"));
  }
  auto secret = tokens_->Create(req->name(), *role, absl::Milliseconds(req->expires_in_ms()));
  if (!secret.ok()) return api::ToGrpc(secret.status());
  auto list = tokens_->List();
  if (list.ok()) {
    for (const Token& t : *list) {
      if (t.name == req->name()) Fill(t, resp->mutable_info());
    }
  }
  resp->set_token(*secret);
  return grpc::Status::OK;
}

grpc::Status AuthService::ListTokens(grpc::ServerContext*, const v1::ListTokensRequest*,
                                     v1::ListTokensResponse* resp) {
  auto list = tokens_->List();
  if (!list.ok()) return api::ToGrpc(list.status());
  for (const Token& t : *list) Fill(t, resp->add_tokens());
  return grpc::Status::OK;
}

grpc::Status AuthService::RevokeToken(grpc::ServerContext*, const v1::RevokeTokenRequest* req,
                                      v1::RevokeTokenResponse*) {
  return api::ToGrpc(tokens_->Revoke(req->name()));
}

grpc::Status AuthService::ListAudit(grpc::ServerContext*, const v1::ListAuditRequest* req,
                                    v1::ListAuditResponse* resp) {
  auto rows = audit_->List(req->since_ms(), req->dag_id(), req->limit());
  if (!rows.ok()) return api::ToGrpc(rows.status());
  for (const AuditRow& r : *rows) {
    v1::AuditEntry* e = resp->add_entries();
    e->set_id(r.id);
    e->set_at_ms(r.at);
    e->set_who(r.who);
    e->set_role(r.role);
    e->set_peer(r.peer);
    e->set_method(r.method);
    e->set_dag_id(r.dag_id);
    e->set_args(r.args);
    e->set_outcome(r.outcome);
    e->set_error(r.error);
  }
  return grpc::Status::OK;
}

}  // namespace de::auth
