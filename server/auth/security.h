// The scheduler's security set-up in one place: flags, tokens (with the first admin token from
// a file), the listening policy, the gRPC credentials with the auth processor, the audit
// interceptor and Auth service, the HTTP auth hook and HTTPS, and the SIGHUP certificate reload.
// Owns TokenStore, AuditLog, Authorizer and TlsCerts; must outlive the gRPC and HTTP servers.
// Thread-safe after Open.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/auth/audit_interceptor.h"
#include "server/auth/audit_log.h"
#include "server/auth/auth_service.h"
#include "server/auth/authorizer.h"
#include "server/auth/tls_certs.h"
#include "server/auth/token_store.h"
#include "server/http/http_server.h"

namespace de::auth {

struct SecurityOptions {
  std::string init_admin_token_file;
  std::string tls_cert, tls_key, tls_client_ca;
  bool insecure_allow_plaintext = false;
};

// The usage lines of the security flags.
extern const char kSecurityUsage[];

// Consumes flag `a` if it is a security flag (`value` reads its argument). Returns false if `a`
// is not one; sets *error on a bad value.
bool ParseSecurityFlag(const std::string& a, const std::function<bool(std::string*)>& value,
                       SecurityOptions* options, std::string* error);

class Security {
 public:
  // After the store's migrations ran on `db_path`. Refuses a listen address the policy forbids.
  static absl::StatusOr<std::unique_ptr<Security>> Open(const SecurityOptions& options,
                                                        const std::string& db_path,
                                                        const std::string& listen,
                                                        const std::string& http_listen);
  std::shared_ptr<grpc::ServerCredentials> GrpcCredentials();
  // Registers the Auth service and the audit interceptor.
  void Install(grpc::ServerBuilder* builder);
  // The auth hook and, with a certificate, HTTPS.
  absl::Status Install(http::HttpServer* http);
  // SIGHUP: re-reads the certificate files (keeps the old ones on error).
  void Reload();
  // At exit: writes last-used times.
  void Flush();
  bool tls() const { return tls_ != nullptr; }
  // The audit trail, for the HTTP actions (the gRPC ones are recorded by the interceptor).
  AuditLog* audit() { return audit_.get(); }
  // Before the servers start: a standby refuses changes (authorizer.h, ChangeGate).
  void SetChangeGate(const ChangeGate* gate) { authorizer_->SetChangeGate(gate); }

 private:
  Security() = default;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<TlsCerts> tls_;
  std::unique_ptr<AuthService> service_;
};

}  // namespace de::auth
