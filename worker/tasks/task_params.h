// Reading built-in tasks' `with:` values by hand, with errors that name the key: the scalar,
// integer, character, list, size, flag and thread-count forms, and the CSV reading options that
// csv_to_parquet, clean and aggregate share. Each task keeps its own error prefix ("" or
// "aggregate: "), so its messages stay as they were.
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/csv/csv_reader.h"
#include "engine/parquet/parquet_writer.h"
#include "yaml-cpp/yaml.h"

namespace de::tasks {

class TaskParamReader {
 public:
  // `prefix` starts every message, e.g. "aggregate: " (or "" for none).
  explicit TaskParamReader(std::string prefix = "") : prefix_(std::move(prefix)) {}

  // InvalidArgument "<prefix><key>: <why>".
  absl::Status Bad(absl::string_view key, absl::string_view why) const;
  // InvalidArgument "<prefix><what>" (a problem with no one key).
  absl::Status Fail(absl::string_view what) const;

  absl::StatusOr<std::string> Scalar(const YAML::Node& n, const std::string& key) const;
  // An integer >= min.
  absl::StatusOr<int64_t> Int(const YAML::Node& n, const std::string& key, int64_t min) const;
  // One character; "\t" or "tab" for a tab; with allow_none, empty or "none" give '\0'.
  absl::StatusOr<char> Char(const YAML::Node& n, const std::string& key, bool allow_none) const;
  // A scalar (one element) or a list of scalars; null gives none.
  absl::StatusOr<std::vector<std::string>> Strings(const YAML::Node& n, const std::string& key) const;
  // "192MB" and the like (dag::ParseByteSize).
  absl::StatusOr<int64_t> Size(const YAML::Node& n, const std::string& key) const;
  // true/yes -> true; anything else false.
  absl::StatusOr<bool> Flag(const YAML::Node& n, const std::string& key) const;
  // `compression` (snappy, zstd, gzip, none).
  absl::Status Codec(const YAML::Node& n, const std::string& key, engine::Codec* out) const;
  // `threads` of `with`: 0 means every core, at most 64; absent: min(2, cores).
  absl::StatusOr<int> Threads(const YAML::Node& with) const;

  // schema, delimiter, quote, header, null_values and sample_rows of `with` into *csv (on_error
  // is each task's own: the defaults differ).
  absl::Status CsvOptions(const YAML::Node& with, engine::CsvReadOptions* csv) const;

 private:
  std::string prefix_;
};

}  // namespace de::tasks
