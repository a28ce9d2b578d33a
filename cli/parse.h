// Parsing of dectl argument values (dates, KEY=VALUE pairs, durations). Pure functions; errors
// are InvalidArgument with a message fit for the user.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace de::cli {

// "2024-01-31" (midnight UTC), or an ISO timestamp "2024-01-31T03:00[:00[.123]]" with an
// optional "Z" or "+02:00" offset (UTC when none); a space may replace the "T".
// Returns milliseconds since the epoch.
absl::StatusOr<int64_t> ParseDateMs(const std::string& text);

// ["k=v", ...] -> {k: v}; the value may contain '=' and be empty; the key may not be empty.
// A repeated key is an error.
absl::StatusOr<std::map<std::string, std::string>> ParseConf(const std::vector<std::string>& pairs);

// "30s", "2m", "1m30s", "500ms", or a plain number of seconds. Must be > 0.
absl::StatusOr<absl::Duration> ParseTimeout(const std::string& text);

}  // namespace de::cli
