// `${NAME}` references to environment variables in alert targets (URLs, headers, routing keys,
// command arguments). They stay unexpanded in the store and are expanded only when sending, so
// secrets are never written to the database or the logs. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace de::alerts {

// Replaces every `${NAME}` (NAME: letters, digits, '_') with the variable's value. Errors name
// the variable, never a value: an unset variable, an unterminated or empty `${`.
// Every expanded value is appended to `secrets` (when given) so callers can redact them.
absl::StatusOr<std::string> ExpandEnv(std::string_view text,
                                      std::vector<std::string>* secrets = nullptr);

// `text` with every non-empty string of `secrets` replaced by "***".
std::string Redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace de::alerts
