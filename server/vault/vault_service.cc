#include "server/vault/vault_service.h"

#include "server/api/grpc_status.h"

namespace de::vault {
namespace {

void Fill(const Variable& v, v1::Variable* out) {
  out->set_name(v.name);
  out->set_value(v.value);
  out->set_updated_at_ms(v.updated_at);
}

void Fill(const SecretInfo& s, v1::SecretInfo* out) {
  out->set_name(s.name);
  out->set_updated_at_ms(s.updated_at);
  out->set_problem(s.problem);
}

}  // namespace

grpc::Status VaultService::SetVariable(grpc::ServerContext*, const v1::SetVariableRequest* req,
                                       v1::Variable* resp) {
  if (absl::Status st = vault_->SetVariable(req->name(), req->value()); !st.ok()) {
    return api::ToGrpc(st);
  }
  auto v = vault_->GetVariable(req->name());
  if (!v.ok()) return api::ToGrpc(v.status());
  Fill(*v, resp);
  return grpc::Status::OK;
}

grpc::Status VaultService::GetVariable(grpc::ServerContext*, const v1::GetVariableRequest* req,
                                       v1::Variable* resp) {
  auto v = vault_->GetVariable(req->name());
  if (!v.ok()) return api::ToGrpc(v.status());
  Fill(*v, resp);
  return grpc::Status::OK;
}

grpc::Status VaultService::ListVariables(grpc::ServerContext*, const v1::ListVariablesRequest*,
                                         v1::ListVariablesResponse* resp) {
  for (const Variable& v : vault_->ListVariables()) Fill(v, resp->add_variables());
  return grpc::Status::OK;
}

grpc::Status VaultService::DeleteVariable(grpc::ServerContext*,
                                          const v1::DeleteVariableRequest* req,
                                          v1::DeleteVariableResponse*) {
  return api::ToGrpc(vault_->DeleteVariable(req->name()));
}

grpc::Status VaultService::SetSecret(grpc::ServerContext*, const v1::SetSecretRequest* req,
                                     v1::SecretInfo* resp) {
  if (absl::Status st = vault_->SetSecret(req->name(), req->secret_value()); !st.ok()) {
    return api::ToGrpc(st);
  }
  for (const SecretInfo& s : vault_->ListSecrets()) {
    if (s.name == req->name()) Fill(s, resp);
  }
  return grpc::Status::OK;
}

grpc::Status VaultService::ListSecrets(grpc::ServerContext*, const v1::ListSecretsRequest*,
                                       v1::ListSecretsResponse* resp) {
  for (const SecretInfo& s : vault_->ListSecrets()) Fill(s, resp->add_secrets());
  return grpc::Status::OK;
}

grpc::Status VaultService::DeleteSecret(grpc::ServerContext*, const v1::DeleteSecretRequest* req,
                                        v1::DeleteSecretResponse*) {
  return api::ToGrpc(vault_->DeleteSecret(req->name()));
}

}  // namespace de::vault
