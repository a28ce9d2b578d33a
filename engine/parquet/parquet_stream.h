// Reading one Parquet row group a slice of rows at a time (RowGroupStream), so that a reader's
// batches are tens of thousands of rows that stay in the CPU cache and reuse the same buffers,
// instead of a whole row group (a million rows, tens of MB) decoded at once. Each column keeps its
// place in its pages (levels, dictionary indices, PLAIN values) between slices, and reads its
// column chunk from the file a window (256 KiB, or one page) at a time as it goes.
//
// The values are exactly those of ParquetReader::ReadRowGroupInto, cut into consecutive slices:
// same types, same dictionary form (a string chunk whose pages are all dictionary-encoded comes
// as codes + one dictionary shared by all its slices; from the first PLAIN page on, plain strings).
// Encodings: PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY, RLE (booleans); Start says false for a row
// group whose chunks list any other encoding (DELTA_*, BYTE_STREAM_SPLIT): read it whole.
//
// Thread safety: one stream belongs to one thread; several streams may read one ParquetReader.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/parquet/parquet_reader.h"

namespace de::engine {

namespace parquet_internal {
class ColumnCursor;
}

class RowGroupStream {
 public:
  RowGroupStream();
  ~RowGroupStream();
  RowGroupStream(const RowGroupStream&) = delete;
  RowGroupStream& operator=(const RowGroupStream&) = delete;

  // Starts row group `rg` of `reader` (which must outlive the stream's use of it) for `columns`
  // (schema indices, empty = all). False, with nothing started, when a chunk lists an encoding the
  // stream does not decode. Buffers of an earlier row group are reused.
  absl::StatusOr<bool> Start(const ParquetReader& reader, int rg, const std::vector<int>& columns,
                             const ParquetReadOptions& options);
  size_t rows_left() const { return rows_ - done_; }
  size_t rows_done() const { return done_; }  // rows of the row group already handed out
  // The next min(max_rows, rows_left()) rows into `out` (its columns' buffers are reused).
  absl::Status Next(size_t max_rows, Batch* out);

 private:
  std::vector<std::unique_ptr<parquet_internal::ColumnCursor>> cursors_;
  size_t active_ = 0;  // cursors_ in use for this row group
  size_t rows_ = 0, done_ = 0;
};

}  // namespace de::engine
