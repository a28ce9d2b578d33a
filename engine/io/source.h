// Table sources: the rows of a resolved dataset (CSV or Parquet files; hive partition columns
// appended as constant columns) as batches. The input is cut into morsels (a CSV chunk of whole
// rows, or a slice of up to 64Ki rows of a Parquet row group) that several threads pull with
// Next() and decode in parallel, each into its own Morsel; only the claiming of the next morsel
// (CSV chunk, Parquet row group) is serialised. A thread that claims a row group hands out all its
// slices itself (parquet/parquet_stream.h), in order.
//
//   files --claim (mutex)--> morsel --decode (caller's thread)--> Batch (+ rejects, stats)
//
// Thread safety: Open is single-threaded; schema() is const; Next() may be called from many
// threads at once, each with its own Morsel.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/csv/csv_reader.h"
#include "engine/io/dataset.h"
#include "engine/ops/expr.h"

namespace de::engine {

struct SourceOptions {
  CsvReadOptions csv;                   // CSV inputs: dialect, schema overrides, on_error
  // Columns to read, by name (empty = all, in file order, partition columns last). Unknown names
  // are an error with "did you mean".
  std::vector<std::string> columns;
  // Parquet string columns that are dictionary-encoded come as dictionary-form Columns (codes +
  // dictionary, see column.h) instead of materialised strings. Only for consumers that handle
  // that form (the aggregate task: its filter and hash group-by work on codes).
  bool dictionary_strings = false;
  // Parquet row groups whose statistics show `prune` cannot match are skipped (not owned; may be
  // null; bound against schema()). Set with SetPrune after Open.
};

struct MorselScratch;  // per-thread decoding state (source.cc)

// One unit of work: a decoded batch and where it came from. Reuse one Morsel per thread: it
// keeps its buffers between calls.
struct Morsel {
  Morsel();
  ~Morsel();
  Morsel(Morsel&&) noexcept;
  Morsel& operator=(Morsel&&) noexcept;

  Batch batch;
  int file_index = -1;
  std::string source;                   // the file's path (for messages and rejects)
  int64_t first_row = 0;                // CSV: physical line of the chunk's first row; Parquet:
                                        // index of the morsel's first row in the file
  std::vector<CsvReject> rejects;       // CSV rows the parser refused (on_error=reject)
  CsvParseStats stats;                  // CSV parse counts of this morsel
  std::unique_ptr<MorselScratch> scratch;
};

class TableSource {
 public:
  static absl::StatusOr<std::unique_ptr<TableSource>> Open(ResolvedDataset dataset,
                                                           SourceOptions options);
  virtual ~TableSource() = default;

  virtual const Schema& schema() const = 0;
  virtual const ResolvedDataset& dataset() const = 0;
  // Row-group pruning (Parquet); call before the first Next. Not owned.
  virtual void SetPrune(const BoundExpr* prune) = 0;
  // Fills `m` with the next morsel; false at the end. Thread-safe.
  virtual absl::StatusOr<bool> Next(Morsel* m) = 0;

  virtual int64_t row_groups_skipped() const = 0;
  virtual int64_t input_bytes() const = 0;        // bytes of the input files
};

}  // namespace de::engine
