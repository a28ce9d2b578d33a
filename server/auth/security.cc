#include "server/auth/security.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/auth/grpc_credentials.h"
#include "server/auth/http_tls.h"
#include "server/auth/listen_policy.h"
#include "spdlog/spdlog.h"

namespace de::auth {

const char kSecurityUsage[] =
    R"(  --init-admin-token FILE  make FILE's content (any non-empty string; a trailing newline is
                       ignored) the admin token named 'admin' (idempotent across restarts)
  --tls-cert FILE      serve gRPC and HTTP over TLS with this PEM certificate chain
  --tls-key FILE       ... and this PEM private key (both re-read on SIGHUP)
  --tls-client-ca FILE verify client certificates against this CA; workers must present one
  --insecure-allow-plaintext  allow a non-loopback address with tokens but without TLS
)";

bool ParseSecurityFlag(const std::string& a, const std::function<bool(std::string*)>& value,
                       SecurityOptions* o, std::string* error) {
  std::string* target = nullptr;
  if (a == "--init-admin-token") target = &o->init_admin_token_file;
  if (a == "--tls-cert") target = &o->tls_cert;
  if (a == "--tls-key") target = &o->tls_key;
  if (a == "--tls-client-ca") target = &o->tls_client_ca;
  if (a == "--insecure-allow-plaintext") {
    o->insecure_allow_plaintext = true;
    return true;
  }
  if (target == nullptr) return false;
  if (!value(target) || target->empty()) *error = absl::StrCat(a, " needs a file");
  return true;
}

absl::StatusOr<std::unique_ptr<Security>> Security::Open(const SecurityOptions& o,
                                                         const std::string& db_path,
                                                         const std::string& listen,
                                                         const std::string& http_listen) {
  std::unique_ptr<Security> s(new Security());
  DE_ASSIGN_OR_RETURN(s->tokens_, TokenStore::Open(db_path, common::SystemClock::Get()));
  DE_ASSIGN_OR_RETURN(s->audit_, AuditLog::Open(db_path, common::SystemClock::Get()));
  if (!o.init_admin_token_file.empty()) {
    DE_ASSIGN_OR_RETURN(std::string secret,
                        ReadPemFile(o.init_admin_token_file, "--init-admin-token"));
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--init-admin-token: ", o.init_admin_token_file, " holds no token"));
    }
    DE_RETURN_IF_ERROR(s->tokens_->EnsureAdmin("admin", secret));
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!o.tls_client_ca.empty() && o.tls_cert.empty()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  if (!o.tls_cert.empty()) {
    DE_ASSIGN_OR_RETURN(s->tls_, TlsCerts::Load({o.tls_cert, o.tls_key, o.tls_client_ca}));
  }
  const bool have_tokens = !s->tokens_->Empty();
  DE_RETURN_IF_ERROR(CheckListenAddress("--listen", listen, have_tokens, s->tls(),
                                        o.insecure_allow_plaintext));
  if (!http_listen.empty()) {
    DE_RETURN_IF_ERROR(CheckListenAddress("--http", http_listen, have_tokens, s->tls(),
                                          o.insecure_allow_plaintext));
  }
  AuthorizerOptions ao;
  // Beyond loopback a call always needs a token, even if every token was revoked.
  ao.always_require_tokens = !IsLoopback(listen) || (!http_listen.empty() && !IsLoopback(http_listen));
  ao.worker_needs_client_cert = !o.tls_client_ca.empty();
  s->authorizer_ = std::make_unique<Authorizer>(s->tokens_.get(), ao);
  s->service_ = std::make_unique<AuthService>(s->tokens_.get(), s->audit_.get());
  return s;
}

std::shared_ptr<grpc::ServerCredentials> Security::GrpcCredentials() {
  return MakeServerCredentials(authorizer_.get(), tls_.get());
}

void Security::Install(grpc::ServerBuilder* builder) {
  builder->RegisterService(service_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> f;
  f.push_back(std::make_unique<AuditInterceptorFactory>(audit_.get()));
  builder->experimental().SetInterceptorCreators(std::move(f));
}

absl::Status Security::Install(http::HttpServer* http) {
  http->SetAuthHook([a = authorizer_.get()](http::Request* req) -> std::optional<http::Response> {
    Decision d = a->CheckHttp(req->method, req->path, req->Header("Authorization"));
    if (d.status.ok()) {
      req->caller = d.caller.name;
      req->caller_role = d.caller.role;
      return std::nullopt;
    }
    spdlog::log(absl::IsUnavailable(d.status) ? spdlog::level::debug : spdlog::level::warn,
                "denied {} {} from {}: {}", req->method, req->path, req->peer,
                 std::string(d.status.message()));
    http::Response r;
    r.status = d.status.code() == absl::StatusCode::kPermissionDenied ? 403
               : d.status.code() == absl::StatusCode::kUnavailable       ? 503
                                                                         : 401;
    r.body = absl::StrCat(d.status.message(), "\n");
    return r;
  });
  if (tls_ == nullptr) return absl::OkStatus();
  return http->UseTls([t = tls_.get()](ssl_ctx_st* ctx) { return SetUpHttpTls(ctx, t); });
}

void Security::Reload() {
  if (tls_ == nullptr) {
    spdlog::info("SIGHUP: no TLS certificate to reload");
    return;
  }
  absl::Status st = tls_->Reload();
  if (st.ok()) {
    spdlog::info("SIGHUP: TLS certificate reloaded (new connections use it)");
  } else {
    spdlog::error("SIGHUP: keeping the previous TLS certificate: {}", std::string(st.message()));
  }
}

void Security::Flush() {
  absl::Status st = tokens_->Flush();
  if (!st.ok()) spdlog::warn("cannot write token last-used times: {}", std::string(st.message()));
}

}  // namespace de::auth
