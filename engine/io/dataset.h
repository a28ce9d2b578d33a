// Datasets as task inputs: a file, a glob, a folder (read recursively; hive `key=value/` folders
// become columns), or a dataset restricted to a time range, which reads only the partitions
// (`dt=YYYY-MM-DD`, `month=YYYY-MM`, or a csv_to_parquet `partition_by` bucket such as
// `ts_day=...` / `ts_month=...`) whose range lies inside [from, to), and fails when a partition in
// the range is missing or has no `_SUCCESS` (unless allow_missing, which makes it a warning).
// Stateless; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "yaml-cpp/yaml.h"

namespace de::engine {

struct DatasetSpec {
  std::string path;                    // relative to the data root (or absolute inside it)
  std::optional<std::string> from;     // time range [from, to): "2024-01-01" or an ISO timestamp
  std::optional<std::string> to;
  bool allow_missing = false;
};

// `input:` as written in a task's `with:`: a string (path/glob/folder) or a map
// {path, from, to, allow_missing}. Errors name the key.
absl::StatusOr<DatasetSpec> ParseDatasetSpec(const YAML::Node& input, const char* what = "input");

enum class FileFormat { kCsv, kParquet };

struct DatasetFile {
  std::string path;                          // absolute
  std::vector<std::string> partition_values; // one per ResolvedDataset::partition_columns;
                                             // "" for __HIVE_DEFAULT_PARTITION__ (null)
};

struct ResolvedDataset {
  FileFormat format = FileFormat::kCsv;
  std::vector<DatasetFile> files;            // sorted by path
  std::vector<std::string> partition_columns;  // hive keys, outermost first
  std::vector<std::string> log;              // lines for the task log (partitions read, warnings)
};

// Lists the files of `spec` inside `data_root`. Parquet when every file found is Parquet (by name
// or magic), CSV when every one is CSV; a mix is an error naming one of each. Folders without
// `_SUCCESS` inside a dataset written by de are skipped only when allowed (see above).
absl::StatusOr<ResolvedDataset> ResolveDataset(const DatasetSpec& spec,
                                               const std::string& data_root);

}  // namespace de::engine
