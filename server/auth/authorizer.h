// The one decision for every call, gRPC or HTTP: which token made it, and whether its role may.
// Without any token (and on loopback) every call is anonymous and allowed; once a token exists
// every call needs one. Thread-safe.
#pragma once

#include <optional>
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

// Whether the scheduler takes calls that change state right now: a standby (server/ha/) serves
// reads only. Thread-safe; implemented by ha::Leadership.
class ChangeGate {
 public:
  virtual ~ChangeGate() = default;
  // Why a call that changes state (or a worker session) is refused now; nullopt to take it.
  virtual std::optional<std::string> RefuseChanges() const = 0;
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
  // Before the servers start: calls that change state pass `gate` after the token check, and
  // are refused with Unavailable (its reason) while it says so.
  void SetChangeGate(const ChangeGate* gate) { gate_ = gate; }

 private:
  // `d` refused as Unavailable when the gate refuses changes now.
  void Gate(Decision* d) const;

  Decision Check(absl::string_view what, Role need, absl::string_view authorization);

  TokenStore* tokens_;
  const AuthorizerOptions options_;
  const ChangeGate* gate_ = nullptr;
};

}  // namespace de::auth
