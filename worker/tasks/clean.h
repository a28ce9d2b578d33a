// `clean`: a dataset (CSV or Parquet; a file, glob, folder or time-ranged dataset) -> select,
// rename, text repair, trim, null tokens, case, casts, filter, dedupe, checks
// (engine/ops/clean_kernels.h) -> a Parquet (default) or CSV folder written atomically
// (temporary folder + `_SUCCESS` manifest + swap), rows that fail going to `_rejects.csv` with
// their reason. Several threads pull morsels from one TableSource, each writing through its own
// TableSink::Writer. A failing check of severity error fails the task and commits nothing.
// Re-entrant; all state is per call.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "engine/csv/csv_reader.h"
#include "engine/io/dataset.h"
#include "engine/io/sink.h"
#include "engine/ops/clean_kernels.h"
#include "worker/tasks/task.h"

namespace de::tasks {

struct CleanParams {
  engine::DatasetSpec input;
  std::string output;                       // resolved absolute folder
  engine::SinkOptions sink;                 // format, codec, file size, row groups
  engine::CsvReadOptions csv;               // CSV inputs
  engine::CleanSpec spec;
  int threads = 2;
  bool fsync = false;
};

// Parses and validates the `with:` map (InvalidArgument naming the key on a bad value).
absl::StatusOr<CleanParams> ParseCleanParams(const YAML::Node& with, const TaskContext& ctx);

absl::StatusOr<TaskOutcome> RunClean(const YAML::Node& with, const TaskContext& ctx);

}  // namespace de::tasks
