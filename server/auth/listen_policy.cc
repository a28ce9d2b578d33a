#include "server/auth/listen_policy.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace de::auth {

bool IsLoopback(const std::string& addr) {
  return absl::StartsWith(addr, "127.") || absl::StartsWith(addr, "localhost:") ||
         absl::StartsWith(addr, "[::1]:");
}

absl::Status CheckListenAddress(const std::string& flag, const std::string& address,
                                bool have_tokens, bool tls, bool allow_plaintext) {
  if (IsLoopback(address)) return absl::OkStatus();
  if (!have_tokens) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to listen on ", address, " (", flag,
        "): without tokens the scheduler only listens on loopback; create an admin token "
        "(--init-admin-token FILE) and give --tls-cert/--tls-key"));
  }
  if (!tls && !allow_plaintext) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to listen on ", address, " (", flag,
        ") without TLS: tokens would cross the network in clear; give --tls-cert/--tls-key "
        "(or --insecure-allow-plaintext)"));
  }
  return absl::OkStatus();
}

}  // namespace de::auth
