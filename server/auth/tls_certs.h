// The scheduler's TLS certificate, key and optional client CA, read from files at start and
// again by Reload() (SIGHUP). gRPC asks Fetch() on each new handshake and gets the new set once
// after a reload; the HTTP listener asks Current(). Connections already open keep theirs, so a
// reload drops no running work. A reload that fails keeps the previous set. Thread-safe.
#pragma once

#include <grpc/grpc_security.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace de::auth {

struct TlsFiles {
  std::string cert;        // PEM chain
  std::string key;         // PEM private key
  std::string client_ca;   // PEM bundle; empty = no client certificates
};

struct TlsPem {
  std::string cert, key, client_ca;
  int generation = 0;
};

class TlsCerts {
 public:
  // Reads and checks the files (the key must match the certificate).
  static absl::StatusOr<std::unique_ptr<TlsCerts>> Load(const TlsFiles& files);
  absl::Status Reload();
  TlsPem Current();
  bool has_client_ca() const { return !files_.client_ca.empty(); }

  // grpc_ssl_server_certificate_config_callback's contract; `self` is a TlsCerts*.
  static grpc_ssl_certificate_config_reload_status Fetch(
      void* self, grpc_ssl_server_certificate_config** config);

 private:
  explicit TlsCerts(TlsFiles files) : files_(std::move(files)) {}
  const TlsFiles files_;
  absl::Mutex mu_;
  TlsPem pem_ ABSL_GUARDED_BY(mu_);
  int served_generation_ ABSL_GUARDED_BY(mu_) = -1;
};

// Reads a whole file; an error names it and `what` ("--tls-cert").
absl::StatusOr<std::string> ReadPemFile(const std::string& path, const std::string& what);

}  // namespace de::auth
