// Reads flat Parquet files (de, DuckDB, Arrow/pyarrow, Spark) into Batches, a row group at a time; every
// length from the file is bounds-checked (corrupt input is an error). After Open, all methods are const
// and may run on several threads at once (e.g. one row group per thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/parquet/parquet_format.h"

namespace de::engine {

namespace parquet_internal {
class ColumnCursor;  // parquet_stream.cc
}

// Column-chunk statistics decoded to the column's Type.
struct ColumnChunkStats {
  int64_t num_values = 0;                 // values (incl. nulls) in the chunk
  std::optional<int64_t> null_count;
  bool has_min_max = false;
  // kBool/kInt32/kInt64/kDate/kTimestamp(micros)/kDecimal(unscaled): min_int/max_int; kDouble: min_double/max_double;
  // kString: min_string/max_string.
  int64_t min_int = 0, max_int = 0;
  double min_double = 0, max_double = 0;
  std::string min_string, max_string;
};

struct ParquetReadOptions {
  // String columns (not UUIDs) whose data pages are all dictionary-encoded come back in
  // dictionary form (Column::dictionary + codes, see column.h) instead of materialised strings;
  // a chunk that switches to plain pages part-way is materialised. Off by default: only callers
  // that handle the dictionary form (or call MaterializeDictionary) should ask for it.
  bool keep_dictionary = false;
};

class ParquetReader {
 public:
  static absl::StatusOr<std::unique_ptr<ParquetReader>> Open(const std::string& path);
  ~ParquetReader();
  ParquetReader(const ParquetReader&) = delete;
  ParquetReader& operator=(const ParquetReader&) = delete;

  // Physical/logical types map to column.h Types: INT32 DATE -> kDate; INT64 TIMESTAMP (millis,
  // micros, nanos) and INT96 -> kTimestamp (micros); FLOAT, DOUBLE -> kDouble; DECIMAL (INT32,
  // INT64, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY) of precision <= 18 -> kDecimal (exact, unscaled int64,
  // Field precision/scale), wider DECIMAL -> kDouble (approximate); other
  // INT32/INT8/INT16/UINT8/UINT16 -> kInt32; UINT32/INT64 -> kInt64; BYTE_ARRAY and
  // FIXED_LEN_BYTE_ARRAY -> kString (UUID as 8-4-4-4-12 hex text); FLOAT16 -> kDouble; BOOLEAN ->
  // kBool. Fields are nullable unless REQUIRED. A nested column (LIST, MAP, STRUCT, repeated) is an
  // error naming it. Codecs: see engine/io/codec.h.
  const Schema& schema() const { return schema_; }
  int64_t num_rows() const { return metadata_.num_rows; }
  int num_row_groups() const { return static_cast<int>(metadata_.row_groups.size()); }
  int64_t row_group_num_rows(int i) const { return metadata_.row_groups.at(i).num_rows; }
  const parquet::FileMetaData& metadata() const { return metadata_; }
  std::string created_by() const { return metadata_.created_by.value_or(""); }

  // Reads row group `i`; `columns` selects schema columns by index (empty = all), in that order.
  absl::StatusOr<Batch> ReadRowGroup(int i, const std::vector<int>& columns = {}) const;
  absl::StatusOr<Batch> ReadRowGroup(int i, const std::vector<int>& columns,
                                     const ParquetReadOptions& options) const;
  // The same into `out`, reusing the memory of the columns it holds (a batch of an earlier call).
  absl::Status ReadRowGroupInto(int i, const std::vector<int>& columns,
                                const ParquetReadOptions& options, Batch* out) const;
  // Reads every row group into one batch (for tests and small files).
  absl::StatusOr<Batch> ReadAll(const std::vector<int>& columns = {}) const;

  absl::StatusOr<ColumnChunkStats> Statistics(int row_group, int column) const;

  // Internal description of a leaf column; public for the implementation's helpers.
  struct Leaf {
    parquet::PhysicalType physical;
    int type_length = 0;
    int max_def = 0;
    Type type = Type::kString;
    enum class Conv { kNone, kTsMillis, kTsNanos, kDecimal, kUint32, kUuid, kFloat16 } conv = Conv::kNone;
    int scale = 0;
  };

 private:
  friend class parquet_internal::ColumnCursor;
  ParquetReader() = default;
  absl::Status Init();
  absl::Status ReadChunk(int rg, int col, const ParquetReadOptions& options, Column* out) const;

  std::string path_;
  int fd_ = -1;
  int64_t file_size_ = 0;
  parquet::FileMetaData metadata_;
  Schema schema_;
  std::vector<Leaf> leaves_;
};

}  // namespace de::engine
