// `aggregate`: a dataset (CSV or Parquet; a file, glob, folder or time-range dataset) -> one row
// per group, written atomically (temporary folder + `_SUCCESS` manifest + swap) as Parquet
// (default) or CSV, optionally hive-partitioned. Thin: parses `with:`, then
//   TableSource (filter pushed down to row-group pruning) --N threads, own HashAggregate each-->
//   Merge --> having --> order_by/limit --> TableSink.
// Re-entrant; all state is per call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/csv/csv_reader.h"
#include "engine/io/dataset.h"
#include "engine/io/sink.h"
#include "engine/ops/hash_aggregate.h"
#include "engine/parquet/parquet_writer.h"
#include "worker/tasks/task.h"

namespace de::tasks {

struct AggregateParams {
  engine::DatasetSpec input;
  std::string output;                          // resolved absolute folder
  engine::OutputFormat format = engine::OutputFormat::kParquet;
  engine::Codec codec = engine::Codec::kSnappy;
  int compression_level = 0;
  std::vector<engine::GroupKeySpec> group_by;
  std::vector<engine::MetricSpec> metrics;
  std::string filter;                          // "" = none
  std::string having;
  std::vector<std::string> order_by;           // "col" / "col desc"; empty = by the group keys
  std::optional<int64_t> limit;
  std::vector<std::string> partition_by;       // output columns -> hive folders
  int threads = 2;
  engine::CsvReadOptions csv;                  // on_error defaults to fail here
  engine::AggregateLimits limits;
  bool fsync = false;
};

// Parses and validates the `with:` map (no file access beyond resolving paths). Errors are
// InvalidArgument and name the parameter.
absl::StatusOr<AggregateParams> ParseAggregateParams(const YAML::Node& with,
                                                     const TaskContext& ctx);

absl::StatusOr<TaskOutcome> RunAggregate(const YAML::Node& with, const TaskContext& ctx);

}  // namespace de::tasks
