// Human output of dectl: aligned tables, UTC times, short durations, progress bars, and the JSON
// form of API messages. Pure functions and a value type; thread-compatible.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "google/protobuf/message.h"

namespace de::cli {

// A table printed with columns aligned (two spaces apart, no trailing blanks). Cells are
// single-line: newlines and tabs become spaces. Width counts UTF-8 code points.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void AddRow(std::vector<std::string> cells);  // missing cells are blank
  size_t rows() const { return rows_.size(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "2024-01-01 03:00:00" (UTC) for milliseconds since the epoch; "-" for 0 (not set).
std::string FormatTime(int64_t ms);
// "03:00:00" (UTC).
std::string FormatClock(int64_t ms);
// "350ms", "1.2s", "3m04s", "2h05m", "3d04h"; "-" for a negative duration.
std::string FormatDuration(int64_t ms);
// Elapsed time of something that started at `start_ms` and ended at `end_ms` (0 = still going,
// measured to `now_ms`); "-" if it has not started.
std::string FormatElapsed(int64_t start_ms, int64_t end_ms, int64_t now_ms);
// "[########------------] 12/31 (38%)"; `width` is the bar's inside width.
std::string ProgressBar(int64_t done, int64_t total, int width = 30);
// The first line of `text`, cut to `max_chars` code points with "..." when longer.
std::string Abbreviate(const std::string& text, size_t max_chars);
// Number of UTF-8 code points, not counting colour escapes (ESC [ ... m).
size_t DisplayWidth(const std::string& s);
// `state` (a run, task or backfill state) in its colour when `colour`: success green, failed /
// upstream_failed / lost red, running / queued blue, up_for_retry / waiting yellow, skipped /
// cancelled dim; as it is otherwise.
std::string ColourState(const std::string& state, bool colour);

// The message as JSON (proto field names, default values included, indented), newline-ended.
std::string ToJson(const google::protobuf::Message& message);

}  // namespace de::cli
