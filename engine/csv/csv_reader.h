// Streaming RFC 4180 CSV reading: dialect/header/type sniffing over a sample, a splitter that cuts
// a byte stream into row-aligned chunks, and a chunk parser that turns a chunk into a typed Batch.
// Chunks are independent, so several CsvChunkParsers (one per thread) may parse them in parallel.
// Objects are not thread-safe; a CsvFormat is immutable once built and may be shared.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/csv/csv_column_sink.h"
#include "engine/csv/csv_index.h"
#include "engine/io/input_stream.h"

namespace de::engine {

// What happens to a row that does not fit (wrong field count, a value that does not parse as its
// column's type, a malformed quoted field, invalid UTF-8).
enum class OnError {
  kReject,  // the row goes to the rejects file with its line number and reason
  kNull,    // a bad value becomes null (counted); short rows are padded with nulls; rows with
            // too many fields or malformed quoting are still rejected
  kFail,    // the task fails with "file:line: reason"
};
bool ParseOnError(std::string_view s, OnError* out);

struct CsvReadOptions {
  char delimiter = 0;                         // 0: detect among , ; \t |
  char quote = '"';                           // 0: no quoting
  std::optional<bool> header;                 // nullopt: detect
  std::vector<std::string> null_values;       // in addition to the empty string
  OnError on_error = OnError::kReject;
  int64_t sample_rows = 20000;                // rows used for detection and type inference
  int64_t sample_bytes = 8 << 20;             // ... and at most this many bytes
  // Explicit column types by name (or, without a header, naming the columns in order).
  std::vector<std::pair<std::string, Type>> schema;
  // Target chunk size for parallel parsing: a chunk and the batch parsed from it stay in a core's
  // L2 cache while the parser makes its passes over them.
  size_t chunk_bytes = 1 << 20;
  size_t max_row_bytes = 64 << 20;            // a longer row is an error (unbalanced quote?)
};

// The resolved reading format: what the sniffer decided plus the user's overrides.
struct CsvFormat {
  char delimiter = ',';
  char quote = '"';
  bool header = true;
  Schema schema;
  std::vector<bool> inferred;                 // per column: type inferred (not explicit)
  std::vector<std::string> null_values;       // besides ""
  OnError on_error = OnError::kReject;
  int64_t sample_rows_used = 0;
};

// Reads up to `max_bytes` decompressed bytes from the start of a stream.
absl::StatusOr<std::string> ReadCsvSample(InputStream* in, size_t max_bytes, bool* whole_file);

// Detects delimiter, header and column types from `sample` (the first bytes of `source`,
// possibly cut mid-row unless `whole_file`), applying the overrides in `options`.
// Fails with "<source> does not look like CSV: ..." on binary data.
absl::StatusOr<CsvFormat> SniffCsv(std::string_view sample, bool whole_file,
                                   const CsvReadOptions& options, const std::string& source);

// A row-aligned piece of one input file. `data[0, size)` holds whole rows and always ends with
// '\n' unless empty (the splitter adds one to a last row without it).
struct CsvChunk {
  std::unique_ptr<char[]> data;
  size_t capacity = 0;
  size_t size = 0;
  int64_t first_line = 1;   // physical line number (1-based) of data[0]
  bool file_start = false;  // the chunk begins the file (its first row may be the header)
  int file_index = 0;
  int64_t seq = 0;          // position of the chunk in the whole input
};

// Cuts a stream into chunks ending at row boundaries (quote-aware), counting physical lines and
// dropping a leading UTF-8 BOM.
class CsvSplitter {
 public:
  CsvSplitter(InputStream* in, char quote, size_t chunk_bytes, size_t max_row_bytes);
  // Fills `chunk` (reusing its buffer). Returns false at the end of the stream.
  absl::StatusOr<bool> Next(CsvChunk* chunk);
  int64_t lines() const { return line_; }

 private:
  InputStream* in_;
  char quote_;
  size_t chunk_bytes_;
  size_t max_row_bytes_;
  std::string carry_;        // bytes after the last row boundary of the previous chunk
  int64_t line_ = 1;
  bool started_ = false;
  bool eof_ = false;
};

// One rejected row.
struct CsvReject {
  int64_t line = 0;
  std::string reason;
  std::string raw;          // the row's text (cut at 64 KB)
};

struct CsvParseStats {
  int64_t rows_in = 0;        // data rows seen (not the header, not blank lines)
  int64_t rows_out = 0;       // rows appended to the batch
  int64_t rows_rejected = 0;
  int64_t values_nulled = 0;  // on_error=null: bad values turned into nulls
};

class CsvChunkParser {
 public:
  // `needed[c]` false: column c is skipped (projection pushdown): its fields are tokenized but
  // neither converted nor copied, so its column in the batch stays empty and a bad value in it
  // (wrong type, invalid UTF-8, a NUL byte) does not reject the row; the row's field count and
  // quoting are still checked. Empty `needed`: every column is read.
  explicit CsvChunkParser(const CsvFormat& format, std::vector<bool> needed = {});
  // Appends the rows of chunk text `data[0, size)` (whole rows) to `batch`, whose columns must
  // match the format's schema (InitBatch); skipped columns get no values. `skip_header` drops
  // the first row. Rejected rows go to `rejects`. With on_error=fail the first bad row is an
  // error "<source>:<line>: <reason>".
  absl::Status Parse(const char* data, size_t size, int64_t first_line, bool skip_header,
                     const std::string& source, Batch* batch, CsvParseStats* stats,
                     std::vector<CsvReject>* rejects);
  // Tests compare the block path (csv_block_parser.cc) with the row parser alone.
  void set_block_path_for_testing(bool on) { block_path_enabled_ = on; }

 private:
  struct FieldRef {
    uint32_t begin;
    uint32_t end;
    bool has_quote;
  };
  enum class ValueResult { kOk, kBad, kMalformed };
  // Appends the value of field `f` to column `col`; else sets `*reason` and appends nothing.
  ValueResult AppendValue(size_t col, const char* base, const FieldRef& f, bool check_utf8,
                          csv_internal::ColumnSink* sink, std::string* reason);
  // The typed conversion of AppendValue, for `v` already unquoted, non-empty, not a null token
  // and free of NUL bytes (Parse calls it directly for plain fields). `in_chunk`: `v` lies in
  // the chunk being parsed, whose bytes around it may be read (short values then parse and copy
  // without loops or calls). ConvertTyped is the same for a type known at compile time (true:
  // appended; false: not a value of the type, nothing appended).
  ValueResult ConvertValue(size_t col, std::string_view v, bool in_chunk, bool check_utf8,
                           csv_internal::ColumnSink* sink, std::string* reason);
  template <Type kType>
  bool ConvertTyped(size_t col, std::string_view v, bool in_chunk, bool check_utf8,
                    csv_internal::ColumnSink* sink);
  // Appends the fields_ of one row to the needed columns; false with `*reason` on the first bad
  // field, whose index goes to `*appended` (the columns before it got a value).
  bool AppendRow(const char* data, bool plain, bool check_utf8, CsvParseStats* stats,
                 size_t* appended, std::string* reason);
  // The sinks of the needed columns: started on the batch, grown when room_ (rows every sink
  // has room for) runs out, finished (buffers trimmed, validity written) before Parse returns.
  void BeginSinks(Batch* batch);
  void GrowSinks();
  void RecomputeRoom();
  void FinishSinks();
  // The block path (csv_block_parser.cc): takes the next kBlockRows rows from `*pos` when they
  // are regular and converts them column by column (true: `*pos`, `*line`, the batch and the
  // stats moved past them); false: nothing appended, the block's offsets are in replay_ for
  // the row parser, and rows_until_block_ rows go to it before the next try.
  bool TryBlock(const char* data, size_t* pos, bool check_utf8, Batch* batch,
                CsvParseStats* stats, int64_t* line);
  bool ConvertBlock(const char* data, size_t row_start, size_t rows, bool check_utf8);
  template <Type kType>
  bool ConvertColumn(size_t c, const char* data, size_t row_start, size_t rows,
                     bool check_utf8);
  bool IsNull(std::string_view v) const;
  std::string MalformedReason(size_t col) const;
  std::string BadValueReason(size_t col, std::string_view v) const;
  bool ParseTimestampCached(std::string_view v, int64_t* micros);

  const CsvFormat& format_;
  std::vector<uint8_t> needed_;  // one per schema column (bytes: read once per field)
  csv_internal::SpecialIndex index_;
  static constexpr size_t kBlockRows = 2048;
  std::vector<uint32_t> seps_;        // the block's delimiter and newline offsets
  csv_internal::ReplayIndex replay_;  // what the row parser reads the index through
  bool block_path_enabled_ = true;
  size_t rows_until_block_ = 0;  // rows for the row parser (after any replay) before a try
  int block_failures_ = 0;       // in this chunk
  char last_date_[10];        // the date prefix of the last timestamp parsed, and its days
  int32_t last_days_ = 0;
  bool has_last_date_ = false;
  std::vector<FieldRef> fields_;
  std::vector<csv_internal::ColumnSink> sinks_;  // one per schema column (needed ones used)
  size_t room_ = 0;
  const char* chunk_begin_ = nullptr;  // the chunk being parsed
  const char* chunk_end_ = nullptr;
  std::string scratch_;
  bool check_nul_ = false;  // the chunk being parsed has a NUL byte
  bool has_null_values_ = false;
};

// Prepares `batch` with one empty column per field of `schema`.
void InitBatch(const Schema& schema, Batch* batch);
// Clears the rows of `batch`, keeping its buffers.
void ClearBatch(Batch* batch);

// Writes `s` as one CSV field (quoted when needed) to `out`.
void AppendCsvField(std::string_view s, std::string* out);

// Convenience for tests and small inputs: sniffs (the first options.sample_bytes) and parses a
// whole in-memory CSV text.
struct CsvTable {
  CsvFormat format;
  Batch batch;
  CsvParseStats stats;
  std::vector<CsvReject> rejects;
};
absl::StatusOr<CsvTable> ReadCsvText(std::string_view text, const CsvReadOptions& options,
                                     const std::string& source = "input.csv");

}  // namespace de::engine
