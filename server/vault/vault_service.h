// The Vault gRPC service: variables and secrets. Thin adapter over Vault (which must outlive
// it); a secret's value is never returned. Thread-safe.
#pragma once

#include "de/v1/vault.grpc.pb.h"
#include "server/vault/vault.h"

namespace de::vault {

class VaultService final : public v1::Vault::Service {
 public:
  explicit VaultService(Vault* vault) : vault_(vault) {}
  grpc::Status SetVariable(grpc::ServerContext*, const v1::SetVariableRequest*,
                           v1::Variable*) override;
  grpc::Status GetVariable(grpc::ServerContext*, const v1::GetVariableRequest*,
                           v1::Variable*) override;
  grpc::Status ListVariables(grpc::ServerContext*, const v1::ListVariablesRequest*,
                             v1::ListVariablesResponse*) override;
  grpc::Status DeleteVariable(grpc::ServerContext*, const v1::DeleteVariableRequest*,
                              v1::DeleteVariableResponse*) override;
  grpc::Status SetSecret(grpc::ServerContext*, const v1::SetSecretRequest*,
                         v1::SecretInfo*) override;
  grpc::Status ListSecrets(grpc::ServerContext*, const v1::ListSecretsRequest*,
                           v1::ListSecretsResponse*) override;
  grpc::Status DeleteSecret(grpc::ServerContext*, const v1::DeleteSecretRequest*,
                            v1::DeleteSecretResponse*) override;

 private:
  Vault* vault_;
};

}  // namespace de::vault
