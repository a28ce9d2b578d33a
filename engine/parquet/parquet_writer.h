// Streaming Parquet writer for flat schemas (our own implementation of the Apache Parquet format).
// One writer owns one output file; not thread-safe (one thread calls Write/Close), but several
// writers may run on different threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"

namespace de::engine {

// kLz4 (Parquet's deprecated LZ4: Hadoop-framed blocks) and kLz4Raw are read-side codecs: the
// reader decodes them; ParseCodec does not offer them for writing (CompressBlock can, for tests).
enum class Codec { kNone, kSnappy, kGzip, kZstd, kLz4, kLz4Raw };
bool ParseCodec(std::string_view name, Codec* out);   // "none" "uncompressed" "snappy" "gzip" "zstd"
const char* CodecName(Codec c);                       // ... "lz4" "lz4_raw"

struct ParquetWriterOptions {
  Codec codec = Codec::kSnappy;
  int compression_level = 0;                 // 0 = the codec's default
  int64_t row_group_rows = 1 << 20;          // a row group is closed at this many rows ...
  int64_t row_group_bytes = 128ll << 20;     // ... or at about this many encoded bytes
  int64_t page_bytes = 1 << 20;              // target uncompressed size of a data page ...
  int64_t page_rows = 1 << 16;               // ... of at most this many rows (as Arrow and
                                             // parquet-mr cap pages: bounds the page buffers)
  int64_t dictionary_max_bytes = 1 << 20;    // dictionary larger than this -> fall back to plain
  std::map<std::string, std::string> key_value_metadata;   // plus "created_by" (de version)
  int threads = 1;                           // > 1: encode the columns of a batch on this many threads
};

class ParquetWriter {
 public:
  // Creates `path` (truncating). The schema's fields become OPTIONAL (nullable) or REQUIRED columns.
  static absl::StatusOr<std::unique_ptr<ParquetWriter>> Open(const std::string& path,
                                                             const Schema& schema,
                                                             const ParquetWriterOptions& options);
  virtual ~ParquetWriter() = default;

  // Appends the rows of `batch` (columns match the schema in order and type).
  virtual absl::Status Write(const Batch& batch) = 0;
  // Bytes written to the file so far plus the buffered row group's estimated encoded size:
  // what the file would be if closed now (used to rotate files at target_file_size).
  virtual int64_t EstimatedFileBytes() const = 0;
  virtual int64_t rows_written() const = 0;
  // Flushes the last row group, writes the footer, and closes the file.
  virtual absl::Status Close() = 0;
};

}  // namespace de::engine
