// TLS for the HTTP listener from the same TlsCerts as gRPC: the certificate is chosen on each
// handshake from TlsCerts::Current(), so a SIGHUP reload applies to the next connection.
#pragma once

#include "server/auth/tls_certs.h"

struct ssl_ctx_st;

namespace de::auth {

// Sets up `ctx` (an SSL_CTX) to serve `certs` (which must outlive it). False on failure.
bool SetUpHttpTls(ssl_ctx_st* ctx, TlsCerts* certs);

}  // namespace de::auth
