#include "server/auth/authorizer.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/auth/method_roles.h"

namespace de::auth {

Decision Authorizer::Check(absl::string_view what, Role need, absl::string_view authorization) {
  Decision d;
  if (!options_.always_require_tokens && tokens_->Empty()) return d;   // anonymous
  absl::string_view secret = authorization;
  if (!absl::ConsumePrefix(&secret, "Bearer ") && !absl::ConsumePrefix(&secret, "bearer ")) {
    secret = {};
  }
  secret = absl::StripAsciiWhitespace(secret);
  if (secret.empty()) {
    d.status = absl::UnauthenticatedError(
        "no token: this scheduler requires one (dectl --token or DE_TOKEN; de-worker --token)");
    return d;
  }
  std::optional<Token> token = tokens_->Lookup(secret);
  if (!token) {
    d.status = absl::UnauthenticatedError("unknown or revoked or expired token");
    return d;
  }
  d.caller.name = token->name;
  d.caller.role = std::string(RoleName(token->role));
  if (!RoleAllows(token->role, need)) {
    d.status = absl::PermissionDeniedError(absl::StrCat(what, " needs role ", RoleName(need),
                                                        "; token '", token->name, "' has ",
                                                        RoleName(token->role)));
  }
  return d;
}

Decision Authorizer::CheckGrpc(absl::string_view method, absl::string_view authorization,
                               bool peer_cert_verified) {
  std::optional<MethodRule> rule = LookupMethod(method);
  if (!rule) {
    Decision d;
    d.status = absl::PermissionDeniedError(
        absl::StrCat(method, " has no entry in the scheduler's role table"));
    return d;
  }
  absl::string_view name = method.substr(method.rfind('/') + 1);
  Decision d = Check(name, rule->role, authorization);
  if (d.status.ok() && rule->role == Role::kWorker && options_.worker_needs_client_cert &&
      !peer_cert_verified) {
    d.status = absl::UnauthenticatedError(
        "the worker session needs a client certificate signed by the scheduler's "
        "--tls-client-ca (de-worker --tls-cert/--tls-key)");
  }
  if (rule->mutating || rule->role == Role::kWorker) Gate(&d);
  return d;
}

Decision Authorizer::CheckHttp(absl::string_view method, absl::string_view path,
                               absl::string_view authorization) {
  std::optional<Role> role = HttpRole(method, path);
  if (!role) return Decision{};
  Decision d = Check(absl::StrCat(method, " ", path), *role, authorization);
  if (method != "GET" && method != "HEAD") Gate(&d);
  return d;
}

void Authorizer::Gate(Decision* d) const {
  if (!d->status.ok() || gate_ == nullptr) return;
  if (std::optional<std::string> why = gate_->RefuseChanges()) {
    d->status = absl::UnavailableError(*why);
  }
}

}  // namespace de::auth
