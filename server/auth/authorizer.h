// The one decision for every call, gRPC or HTTP: which token made it, and whether its role may.
// Without any token (and on loopback) every call is anonymous and allowed; once a token exists
// every call needs one. Thread-safe.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "server/auth/roles.h"
#include "server/auth/token_store.h"

namespace de::auth {

struct Caller {
  std::string name = "anonymous";
  std::string role;   // empty for anonymous
};

struct Decision {
  absl::Status status;   // OK, UNAUTHENTICATED or PERMISSION_DENIED with the reason
  Caller caller;
};

struct AuthorizerOptions {
  // Tokens are required even while none exists (the scheduler listens beyond loopback).
  bool always_require_tokens = false;
  // The worker session also needs a client certificate verified against --tls-client-ca.
  bool worker_needs_client_cert = false;
};

class Authorizer {
 public:
  Authorizer(TokenStore* tokens, AuthorizerOptions options)
      : tokens_(tokens), options_(options) {}

  // `method` is the full gRPC path ("/de.v1.Operator/Trigger"); `authorization` the value of the
  // authorization header ("Bearer TOKEN"), empty when absent.
  Decision CheckGrpc(absl::string_view method, absl::string_view authorization,
                     bool peer_cert_verified);
  Decision CheckHttp(absl::string_view method, absl::string_view path,
                     absl::string_view authorization);

 private:
  Decision Check(absl::string_view what, Role need, absl::string_view authorization);

  TokenStore* tokens_;
  const AuthorizerOptions options_;
};

}  // namespace de::auth
