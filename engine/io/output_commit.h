// Atomic output folders: a task writes into a temporary folder next to its target
// (`.NAME.tmp-XXXX`), then Commit() writes the `_SUCCESS` manifest (files, rows, bytes, schema)
// and swaps the folder into place (renameat2 RENAME_EXCHANGE, or two renames with recovery).
// Readers skip folders without `_SUCCESS`; a crash leaves the old output or none, never half of
// one. An OutputCommit that is destroyed without Commit() removes its temporary folder.
// Not thread-safe (one owner); the files inside may be written from several threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/columnar/column.h"
#include "engine/csv/csv_reader.h"

namespace de::engine {

struct OutputFile {
  std::string rel_path;   // relative to the output folder, e.g. "origin=JFK/part-00000.parquet"
  int64_t rows = 0;
  int64_t bytes = 0;
};

// What `_SUCCESS` says about the output.
struct Manifest {
  std::string format = "parquet";          // parquet | csv
  std::string codec;                        // parquet codec, or "" for csv
  int64_t rows = 0;
  std::vector<OutputFile> files;
  Schema schema;
  std::vector<std::string> partition_by;
  int64_t rows_in = 0;
  int64_t rows_rejected = 0;
  bool has_rejects = false;                 // `_rejects.csv` is in the folder
  std::string created_by;                   // "de csv_to_parquet"
  std::string extra_json;                   // more members: "\"checks\":{...}" (no braces)
};
std::string ManifestJson(const Manifest& m);

class OutputCommit {
 public:
  // Prepares `output` (an absolute folder path): creates its parent, refuses a non-folder in the
  // way, cleans up what crashed runs left next to it, and creates the temporary folder.
  static absl::StatusOr<std::unique_ptr<OutputCommit>> Begin(const std::string& output);
  ~OutputCommit();
  OutputCommit(const OutputCommit&) = delete;
  OutputCommit& operator=(const OutputCommit&) = delete;

  const std::filesystem::path& tmp_dir() const { return tmp_; }
  const std::filesystem::path& output() const { return out_; }

  // Writes `_SUCCESS` (bytes summed from `m.files`), optionally fsyncs every file and folder, and
  // swaps the temporary folder into place.
  absl::Status Commit(const Manifest& m, bool fsync);

 private:
  OutputCommit(std::filesystem::path out, std::filesystem::path tmp)
      : out_(std::move(out)), tmp_(std::move(tmp)) {}
  const std::filesystem::path out_;
  const std::filesystem::path tmp_;
  bool committed_ = false;
};

// Rows rejected by any thread go to one CSV file (source_file,line,reason,raw), opened on first
// use. Thread-safe.
class RejectsWriter {
 public:
  explicit RejectsWriter(std::string path) : path_(std::move(path)) {}
  ~RejectsWriter();
  // `rows`: line (or row number for non-CSV sources), reason, the raw row text.
  absl::Status Write(const std::string& source, const std::vector<CsvReject>& rows);
  absl::Status Close();
  bool written() const;

 private:
  const std::string path_;
  mutable std::mutex mu_;
  FILE* f_ = nullptr;
  bool opened_ = false;
};

absl::Status FsyncPath(const std::string& path, bool dir);
// A short random hex suffix for temporary names.
std::string RandomSuffix();

}  // namespace de::engine
