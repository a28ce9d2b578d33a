#include "cli/format.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace de::cli {
namespace {

std::string SingleLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

}  // namespace

size_t DisplayWidth(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      size_t end = s.find('m', i + 2);
      if (end != std::string::npos) {
        i = end;
        continue;
      }
    }
    n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  }
  return n;
}

std::string ColourState(const std::string& state, bool colour) {
  if (!colour) return state;
  const char* code = nullptr;
  if (state == "success") code = "32";
  else if (state == "failed" || state == "upstream_failed" || state == "lost") code = "31";
  else if (state == "running" || state == "queued") code = "34";
  else if (state == "up_for_retry" || state == "waiting" || state == "scheduled") code = "33";
  else if (state == "skipped" || state == "cancelled") code = "2";
  if (code == nullptr) return state;
  return absl::StrCat("\x1b[", code, "m", state, "\x1b[0m");
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (auto& c : cells) c = SingleLine(std::move(c));
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = DisplayWidth(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - DisplayWidth(row[i]), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  print_row(headers_);
  for (const auto& row : rows_) print_row(row);
}

std::string FormatTime(int64_t ms) {
  if (ms == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

std::string FormatClock(int64_t ms) {
  return absl::FormatTime("%H:%M:%S", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

std::string FormatDuration(int64_t ms) {
  if (ms < 0) return "-";
  if (ms < 1000) return absl::StrCat(ms, "ms");
  int64_t tenths = (ms + 50) / 100;
  if (tenths < 600) return absl::StrFormat("%d.%ds", tenths / 10, tenths % 10);
  int64_t s = (ms + 500) / 1000;
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  int64_t m = s / 60;
  if (m < 24 * 60) return absl::StrFormat("%dh%02dm", m / 60, m % 60);
  int64_t h = m / 60;
  return absl::StrFormat("%dd%02dh", h / 24, h % 24);
}

std::string FormatElapsed(int64_t start_ms, int64_t end_ms, int64_t now_ms) {
  if (start_ms == 0) return "-";
  return FormatDuration((end_ms != 0 ? end_ms : now_ms) - start_ms);
}

std::string ProgressBar(int64_t done, int64_t total, int width) {
  done = std::clamp<int64_t>(done, 0, std::max<int64_t>(total, 0));
  int64_t filled = total > 0 ? done * width / total : 0;
  int64_t percent = total > 0 ? done * 100 / total : 0;
  return absl::StrCat("[", std::string(filled, '#'), std::string(width - filled, '-'), "] ", done,
                      "/", total, " (", percent, "%)");
}

std::string Abbreviate(const std::string& text, size_t max_chars) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  bool cut = line.size() != text.size() &&
             text.find_first_not_of("\r\n ", line.size()) != std::string::npos;
  if (DisplayWidth(line) > max_chars) {
    size_t keep = max_chars > 3 ? max_chars - 3 : 0;
    size_t i = 0, points = 0;
    while (i < line.size() && points < keep) {
      ++i;
      while (i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) ++i;
      ++points;
    }
    line.resize(i);
    cut = true;
  }
  return cut ? line + "..." : line;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) return absl::StrCat("{\"error\": \"cannot print as JSON\"}\n");
  if (json.empty() || json.back() != '\n') json += '\n';
  return json;
}

}  // namespace de::cli
