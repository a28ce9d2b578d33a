// Table sinks: batches (with a selection) -> Parquet or CSV files inside an output folder (the
// OutputCommit's temporary folder), optionally hive-partitioned by columns, rotated at
// target_file_size. Each thread writes through its own Writer (its own part files), so writers
// never share a file; Finish() lists every file for the `_SUCCESS` manifest.
//
// Thread safety: NewWriter() and Finish() are thread-safe; a Writer belongs to one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/columnar/selection.h"
#include "engine/io/output_commit.h"
#include "engine/parquet/parquet_writer.h"

namespace de::engine {

enum class OutputFormat { kParquet, kCsv };
bool ParseOutputFormat(std::string_view s, OutputFormat* out);   // "parquet" "csv"

struct SinkOptions {
  OutputFormat format = OutputFormat::kParquet;
  ParquetWriterOptions parquet;              // codec, level, row groups (threads is per writer)
  int64_t target_file_size = 192ll << 20;    // a new file is started past this size
  std::vector<std::string> partition_by;     // plain columns -> `col=value/` folders (not in files)
  std::string file_prefix = "part";
};

class TableSink {
 public:
  // Refuses partition_by columns the schema lacks, or that would leave no column in the files.
  static absl::StatusOr<std::unique_ptr<TableSink>> Open(std::string dir, Schema schema,
                                                         SinkOptions options);
  ~TableSink();

  class Writer {
   public:
    virtual ~Writer() = default;
    // Appends the selected rows of `batch` (columns as the sink's schema).
    virtual absl::Status Write(const Batch& batch, const Selection& sel) = 0;
    // Closes the writer's files. Call before Finish() (destroying a writer closes it too).
    virtual absl::Status Close() = 0;
  };
  std::unique_ptr<Writer> NewWriter();

  // After every writer is closed: the files (relative paths, sorted). An unpartitioned sink that
  // got no rows still writes one empty file with the schema.
  absl::StatusOr<std::vector<OutputFile>> Finish();

  const Schema& schema() const { return schema_; }
  // The schema of the files (partition columns removed).
  const Schema& file_schema() const { return file_schema_; }

 private:
  TableSink(std::string dir, Schema schema, SinkOptions options);
  friend class SinkWriterImpl;
  std::string NextFileName(const std::string& subdir);   // thread-safe
  void AddFile(OutputFile f);                            // thread-safe

  const std::string dir_;
  const Schema schema_;
  const SinkOptions options_;
  Schema file_schema_;
  std::vector<int> file_cols_;     // schema column of each file column
  std::vector<int> part_cols_;     // schema column of each partition_by entry

  std::mutex mu_;
  int next_file_ = 0;                      // guarded by mu_
  std::vector<OutputFile> files_;          // guarded by mu_
};

// Copies the selected rows of `in` into `out` (same column types; `out` is cleared first).
void Gather(const Batch& in, const Selection& sel, Batch* out);
// Formats one value of `c` at `row` as CSV/JSON text (nulls as "").
std::string FormatValue(const Column& c, size_t row);

}  // namespace de::engine
