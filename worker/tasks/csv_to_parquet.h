// `csv_to_parquet`: CSV files (plain, .gz, .zst; a path, a glob or a folder) -> a folder of Parquet
// files, streamed with bounded memory, parsed and encoded on several threads, written atomically
// (temporary folder + `_SUCCESS` manifest + swap). Re-entrant; all state is per call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/csv/csv_reader.h"
#include "engine/io/paths.h"
#include "engine/parquet/parquet_writer.h"
#include "worker/tasks/task.h"

namespace de::tasks {

// One `partition_by` entry: a column, or a day/month bucket of a date/timestamp column.
struct PartitionSpec {
  enum class Bucket { kNone, kDay, kMonth };
  std::string column;
  Bucket bucket = Bucket::kNone;
  std::string name;  // folder key: the column, or "<column>_day" / "<column>_month" (or `as:`)
};

struct CsvToParquetParams {
  std::string input;                     // as given
  std::vector<std::string> input_files;  // resolved, sorted
  std::string output;                    // resolved absolute folder
  engine::Codec codec = engine::Codec::kSnappy;
  int compression_level = 0;
  int64_t target_file_size = 192ll << 20;
  int64_t row_group_rows = 1 << 20;
  std::vector<PartitionSpec> partition_by;
  engine::CsvReadOptions csv;
  int threads = 2;
  int max_open_files = 256;  // partitioned output: open writers across all threads
  bool fsync = false;        // fsync files and folders before the swap
};

// Parses and validates the `with:` map; resolves paths against ctx.data_root
// (csv_to_parquet_params.cc).
absl::StatusOr<CsvToParquetParams> ParseCsvToParquetParams(const YAML::Node& with,
                                                           const TaskContext& ctx);

using engine::EscapePartitionValue;  // engine/io/paths.h

absl::StatusOr<TaskOutcome> RunCsvToParquet(const YAML::Node& with, const TaskContext& ctx);

}  // namespace de::tasks
