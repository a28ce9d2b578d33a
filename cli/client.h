// The connection from dectl to de-scheduler's Operator service: one channel, per-call deadline
// and bearer token, and the mapping of gRPC errors to dectl's messages and exit codes.
// Not thread-safe (dectl makes one call at a time).
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "de/v1/auth.grpc.pb.h"
#include "de/v1/operator.grpc.pb.h"
#include "de/v1/vault.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace de::cli {

// Options every command takes.
struct GlobalOptions {
  // HOST:PORT, or several separated by commas (schedulers sharing one PostgreSQL): a call that
  // finds one unavailable (down, or a standby refusing a change) goes on to the next.
  std::string server = "127.0.0.1:7070";
  std::string output = "table";           // table | json
  std::string token;                      // empty = send no authorization
  std::string tls_ca;                     // PEM file: connect over TLS trusting it; empty = plaintext
  absl::Duration timeout = absl::Seconds(30);
  // Non-empty when `server` was read from DE_HOME/scheduler.addr (no --server, no DE_SERVER):
  // the file is read again when reconnecting, as a restarted scheduler may listen elsewhere.
  std::string address_file;
};

// DE_HOME/scheduler.addr's address (trailing whitespace removed), or "" when it cannot be read.
std::string ReadAddressFile(const std::string& path);

class Client {
 public:
  explicit Client(const GlobalOptions& options);

  // Calls one RPC: `fn(stub, context)` with a fresh context carrying the deadline and token,
  // e.g. `client.Call([&](auto* s, auto* c) { return s->GetRun(c, req, &run); })`.
  template <typename Fn>
  grpc::Status Call(Fn fn) {
    return OnEachAddress([&](grpc::ClientContext* c) { return fn(stub_.get(), c); });
  }
  // The same for the Auth service (tokens, audit).
  template <typename Fn>
  grpc::Status CallAuth(Fn fn) {
    return OnEachAddress([&](grpc::ClientContext* c) { return fn(auth_stub_.get(), c); });
  }
  // The same for the Vault service (variables, secrets).
  template <typename Fn>
  grpc::Status CallVault(Fn fn) {
    return OnEachAddress([&](grpc::ClientContext* c) { return fn(vault_stub_.get(), c); });
  }

  // Prints `status` as dectl reports errors ("dectl: ..."; "cannot reach de-scheduler at ..."
  // when the server is unreachable) and returns the exit code for it.
  int Report(const grpc::Status& status, std::ostream& err);
  // True if `status` means the server could not be reached (rather than that it said no).
  bool IsUnreachable(const grpc::Status& status);

  // The address calls go to now.
  const std::string& address() const { return addresses_[current_]; }

  // Before retrying after the scheduler was unavailable: a fresh connection, to the address
  // DE_HOME/scheduler.addr names now when the address came from there. (A channel that saw its
  // scheduler go away waits out gRPC's growing backoff, seconds after the scheduler is back.)
  void Reconnect();

 private:
  // Makes the call on the current address and, while it is unavailable, on each other one once
  // (from then on calls go where one succeeded).
  template <typename Attempt>
  grpc::Status OnEachAddress(Attempt attempt) {
    for (size_t tried = 1;; ++tried) {
      grpc::ClientContext context;
      Prepare(&context);
      grpc::Status st = attempt(&context);
      if (st.error_code() != grpc::StatusCode::UNAVAILABLE || tried >= addresses_.size()) return st;
      current_ = (current_ + 1) % addresses_.size();
      Connect();
    }
  }
  void Prepare(grpc::ClientContext* context) const;
  void Connect();

  GlobalOptions options_;
  std::vector<std::string> addresses_;   // options_.server split at commas
  size_t current_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<de::v1::Operator::Stub> stub_;
  std::unique_ptr<de::v1::Auth::Stub> auth_stub_;
  std::unique_ptr<de::v1::Vault::Stub> vault_stub_;
};

}  // namespace de::cli
