#include "server/alerts/env.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace de::alerts {

absl::StatusOr<std::string> ExpandEnv(std::string_view text, std::vector<std::string>* secrets) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = text.find("${", pos);
    if (start == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, start - pos));
    size_t end = text.find('}', start + 2);
    if (end == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("unterminated '${' at offset ", start, " (expected ${NAME})"));
    }
    std::string name(text.substr(start + 2, end - start - 2));
    bool valid = !name.empty();
    for (char c : name) valid = valid && (absl::ascii_isalnum(c) || c == '_');
    if (!valid) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid environment reference at offset ", start,
                       " (expected ${NAME} with letters, digits and '_')"));
    }
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("environment variable ", name, " is not set in de-scheduler's environment"));
    }
    out.append(value);
    if (secrets != nullptr && *value != '\0') secrets->push_back(value);
    pos = end + 1;
  }
  return out;
}

std::string Redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (!s.empty()) absl::StrReplaceAll({{s, "***"}}, &text);
  }
  return text;
}

}  // namespace de::alerts
