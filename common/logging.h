// Process-wide logging setup (spdlog): one line per event, text or JSON. Call once at startup.
#pragma once
#include <string>
#include "absl/status/status.h"
namespace de::common {
// format: "text" or "json"; level: trace debug info warn error.
absl::Status InitLogging(const std::string& program, const std::string& format,
                         const std::string& level);
}  // namespace de::common
