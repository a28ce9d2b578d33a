#include "cli/parse.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace de::cli {

absl::StatusOr<int64_t> ParseDateMs(const std::string& raw) {
  std::string text(absl::StripAsciiWhitespace(raw));
  if (text.size() > 10 && text[10] == ' ') text[10] = 'T';
  // Formats with an explicit offset first; absl's %Ez accepts "Z" as well as "+hh:mm".
  static const char* const kFormats[] = {
      "%Y-%m-%d",       "%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M%Ez", "%Y-%m-%dT%H:%M:%E*S",
      "%Y-%m-%dT%H:%M",
  };
  for (const char* format : kFormats) {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(format, text, absl::UTCTimeZone(), &t, &err)) {
      return absl::ToUnixMillis(t);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "bad date '", raw, "': expected YYYY-MM-DD or an ISO timestamp like 2024-01-31T03:00:00Z"));
}

absl::StatusOr<std::map<std::string, std::string>> ParseConf(
    const std::vector<std::string>& pairs) {
  std::map<std::string, std::string> conf;
  for (const auto& pair : pairs) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad --conf '", pair, "': expected KEY=VALUE"));
    }
    std::string key = pair.substr(0, eq);
    if (!conf.emplace(key, pair.substr(eq + 1)).second) {
      return absl::InvalidArgumentError(absl::StrCat("--conf ", key, " given twice"));
    }
  }
  return conf;
}

absl::StatusOr<absl::Duration> ParseTimeout(const std::string& text) {
  absl::Duration d;
  double seconds;
  if (absl::SimpleAtod(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --timeout '", text, "': expected a duration like 30s or 2m"));
  }
  if (d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("bad --timeout '", text, "': must be > 0"));
  }
  return d;
}

}  // namespace de::cli
