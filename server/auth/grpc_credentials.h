// The credentials of the scheduler's gRPC port, plaintext or TLS, with the Authorizer installed
// as gRPC's auth metadata processor: it runs on every call of every service before any handler,
// rejects with UNAUTHENTICATED / PERMISSION_DENIED, removes the authorization header, and leaves
// the caller's token name and role in the call's auth context (kCallerProperty, kRoleProperty).
// The Authorizer and TlsCerts must outlive the server. Thread-safe.
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>

#include "server/auth/authorizer.h"
#include "server/auth/tls_certs.h"

namespace de::auth {

// `tls` null = plaintext. With a client CA, client certificates are requested and verified
// (workers need one; dectl need not present any).
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(Authorizer* authorizer,
                                                               TlsCerts* tls);

}  // namespace de::auth
