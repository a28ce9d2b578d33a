#include "server/auth/http_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "spdlog/spdlog.h"

namespace de::auth {
namespace {

// SSL_CTX_set_cert_cb: installs the current certificate chain and key on `ssl`.
int SelectCert(SSL* ssl, void* arg) {
  TlsPem pem = static_cast<TlsCerts*>(arg)->Current();
  BIO* cb = BIO_new_mem_buf(pem.cert.data(), static_cast<int>(pem.cert.size()));
  X509* leaf = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  bool ok = leaf != nullptr && SSL_use_certificate(ssl, leaf) == 1;
  X509_free(leaf);
  while (ok) {
    X509* ca = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    if (ca == nullptr) break;
    SSL_add0_chain_cert(ssl, ca);
  }
  BIO_free(cb);
  ERR_clear_error();
  BIO* kb = BIO_new_mem_buf(pem.key.data(), static_cast<int>(pem.key.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  ok = ok && key != nullptr && SSL_use_PrivateKey(ssl, key) == 1;
  EVP_PKEY_free(key);
  if (!ok) spdlog::error("HTTPS: cannot use the TLS certificate");
  return ok ? 1 : 0;
}

}  // namespace

bool SetUpHttpTls(ssl_ctx_st* ctx, TlsCerts* certs) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_cert_cb(ctx, &SelectCert, certs);
  return true;
}

}  // namespace de::auth
