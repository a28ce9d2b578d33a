#include "server/auth/grpc_credentials.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>

#include "absl/strings/string_view.h"

#include "server/auth/audit_interceptor.h"
#include "spdlog/spdlog.h"

namespace de::auth {
namespace {

absl::string_view View(const grpc_slice& s) {
  return {reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(s)), GRPC_SLICE_LENGTH(s)};
}

grpc_status_code ToCode(const absl::Status& st) {
  if (st.code() == absl::StatusCode::kUnavailable) return GRPC_STATUS_UNAVAILABLE;   // a standby
  return st.code() == absl::StatusCode::kPermissionDenied ? GRPC_STATUS_PERMISSION_DENIED
                                                          : GRPC_STATUS_UNAUTHENTICATED;
}

// grpc_auth_metadata_processor.process: decides synchronously (the token lookup is in memory).
void Process(void* state, grpc_auth_context* ctx, const grpc_metadata* md, size_t n,
             grpc_process_auth_metadata_done_cb cb, void* user_data) {
  auto* authorizer = static_cast<Authorizer*>(state);
  absl::string_view path, authorization;
  const grpc_metadata* auth_md = nullptr;
  for (size_t i = 0; i < n; ++i) {
    absl::string_view key = View(md[i].key);
    if (key == ":path") path = View(md[i].value);
    if (key == "authorization") {
      authorization = View(md[i].value);
      auth_md = &md[i];
    }
  }
  const bool verified = ctx != nullptr && grpc_auth_context_peer_is_authenticated(ctx) != 0;
  Decision d = authorizer->CheckGrpc(path, authorization, verified);
  if (!d.status.ok()) {
    // A standby refusing changes is routine (workers and clients move on to the leader).
    spdlog::log(absl::IsUnavailable(d.status) ? spdlog::level::debug : spdlog::level::warn,
                "denied {}: {}", std::string(path), std::string(d.status.message()));
    const std::string msg(d.status.message());
    cb(user_data, nullptr, 0, nullptr, 0, ToCode(d.status), msg.c_str());
    return;
  }
  if (ctx != nullptr) {
    grpc_auth_context_add_cstring_property(ctx, kCallerProperty, d.caller.name.c_str());
    grpc_auth_context_add_cstring_property(ctx, kRoleProperty, d.caller.role.c_str());
  }
  cb(user_data, auth_md, auth_md ? 1 : 0, nullptr, 0, GRPC_STATUS_OK, nullptr);
}

// grpc::ServerCredentials over core credentials that carry the processor. (gRPC's own
// InsecureServerCredentials() cannot take a processor; core insecure credentials can.)
class CoreServerCredentials : public grpc::ServerCredentials {
 public:
  CoreServerCredentials(grpc_server_credentials* creds, Authorizer* authorizer) : creds_(creds) {
    grpc_server_credentials_set_auth_metadata_processor(creds_, {Process, nullptr, authorizer});
  }
  ~CoreServerCredentials() override { grpc_server_credentials_release(creds_); }
  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {
    spdlog::error("the scheduler's credentials carry their own auth processor");
  }

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }
  grpc_server_credentials* creds_;
};

}  // namespace

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(Authorizer* authorizer,
                                                               TlsCerts* tls) {
  grpc_server_credentials* creds = nullptr;
  if (tls == nullptr) {
    creds = grpc_insecure_server_credentials_create();
  } else {
    grpc_ssl_server_credentials_options* opts =
        grpc_ssl_server_credentials_create_options_using_config_fetcher(
            tls->has_client_ca() ? GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY
                                 : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            &TlsCerts::Fetch, tls);
    creds = grpc_ssl_server_credentials_create_with_options(opts);
  }
  return std::make_shared<CoreServerCredentials>(creds, authorizer);
}

}  // namespace de::auth
