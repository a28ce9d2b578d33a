// Where the scheduler may listen: without tokens only on loopback; with tokens beyond loopback
// only with TLS (or an explicit --insecure-allow-plaintext). Pure functions; thread-safe.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace de::auth {

bool IsLoopback(const std::string& address);

// `flag` names the option in the error ("--listen", "--http").
absl::Status CheckListenAddress(const std::string& flag, const std::string& address,
                                bool have_tokens, bool tls, bool allow_plaintext);

}  // namespace de::auth
