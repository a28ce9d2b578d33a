#include "server/auth/tls_certs.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace de::auth {
namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "not PEM";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

// The key must parse and match the first certificate of the chain.
absl::Status CheckPair(const std::string& cert_pem, const std::string& key_pem,
                       const TlsFiles& files) {
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-cert ", files.cert, ": no certificate (", OpenSslError(), ")"));
  }
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  absl::Status st;
  if (key == nullptr) {
    st = absl::InvalidArgumentError(
        absl::StrCat("--tls-key ", files.key, ": no private key (", OpenSslError(), ")"));
  } else if (X509_check_private_key(cert, key) != 1) {
    ERR_clear_error();
    st = absl::InvalidArgumentError(absl::StrCat("--tls-key ", files.key,
                                                 " does not match the certificate in ",
                                                 files.cert));
  }
  EVP_PKEY_free(key);
  X509_free(cert);
  return st;
}

}  // namespace

absl::StatusOr<std::string> ReadPemFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(what, ": cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", path, " is empty"));
  return ss.str();
}

absl::StatusOr<std::unique_ptr<TlsCerts>> TlsCerts::Load(const TlsFiles& files) {
  std::unique_ptr<TlsCerts> c(new TlsCerts(files));
  DE_RETURN_IF_ERROR(c->Reload());
  return c;
}

absl::Status TlsCerts::Reload() {
  TlsPem next;
  DE_ASSIGN_OR_RETURN(next.cert, ReadPemFile(files_.cert, "--tls-cert"));
  DE_ASSIGN_OR_RETURN(next.key, ReadPemFile(files_.key, "--tls-key"));
  if (!files_.client_ca.empty()) {
    DE_ASSIGN_OR_RETURN(next.client_ca, ReadPemFile(files_.client_ca, "--tls-client-ca"));
  }
  DE_RETURN_IF_ERROR(CheckPair(next.cert, next.key, files_));
  absl::MutexLock lock(&mu_);
  next.generation = pem_.generation + 1;
  pem_ = std::move(next);
  return absl::OkStatus();
}

TlsPem TlsCerts::Current() {
  absl::MutexLock lock(&mu_);
  return pem_;
}

grpc_ssl_certificate_config_reload_status TlsCerts::Fetch(
    void* self, grpc_ssl_server_certificate_config** config) {
  auto* c = static_cast<TlsCerts*>(self);
  absl::MutexLock lock(&c->mu_);
  if (c->served_generation_ == c->pem_.generation) return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
  grpc_ssl_pem_key_cert_pair pair{c->pem_.key.c_str(), c->pem_.cert.c_str()};
  // gRPC's fetched configs must carry root certificates (it aborts the process on null). Without
  // a client CA no client certificate is requested, so the server's own chain stands in, unused.
  const std::string& roots = c->pem_.client_ca.empty() ? c->pem_.cert : c->pem_.client_ca;
  *config = grpc_ssl_server_certificate_config_create(roots.c_str(), &pair, 1);
  c->served_generation_ = c->pem_.generation;
  return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
}

}  // namespace de::auth
