// csv_to_parquet's parallel pipeline: a ChunkSource cuts the input files into row-aligned chunks,
// and each Lane (one thread) parses its chunks and writes them to Parquet files of its own
// (chunk i goes to lane i % lanes, so the output does not depend on timing). Internal to the task.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/csv/csv_reader.h"
#include "engine/io/input_stream.h"
#include "engine/io/output_commit.h"
#include "engine/parquet/parquet_writer.h"
#include "worker/tasks/csv_to_parquet.h"

namespace de::tasks::c2p {

// State shared by the threads of one run.
struct Shared {
  const CsvToParquetParams* params = nullptr;
  const engine::CsvFormat* format = nullptr;
  const TaskContext* ctx = nullptr;
  std::string tmp_dir;
  engine::Schema out_schema;
  std::vector<int> out_cols;       // schema columns written to files
  std::vector<int> part_cols;      // schema column of each partition spec
  engine::ParquetWriterOptions writer_options;
  int lanes = 1;
  int max_open_per_lane = 1;
  engine::RejectsWriter* rejects = nullptr;
  std::atomic<bool> stop{false};
  std::mutex mu;
  absl::Status error;              // first error; guarded by mu

  void Fail(absl::Status s);
  bool cancelled() const;
};

// Reads the input files one after another and cuts them into row-aligned chunks.
class ChunkSource {
 public:
  // `read_ahead`: inflate a compressed file on a thread of its own. Worth it when the caller
  // parses what Next returns on the same thread (one lane); with several lanes the caller is a
  // thread of its own already, and the extra copy through the read-ahead buffers costs more than
  // it gains.
  ChunkSource(const std::vector<std::string>& files, const engine::CsvReadOptions& o, char quote,
              bool read_ahead)
      : files_(files),
        quote_(quote),
        read_ahead_(read_ahead),
        chunk_bytes_(o.chunk_bytes),
        max_row_(o.max_row_bytes) {}

  // False at the end of the last file.
  absl::StatusOr<bool> Next(engine::CsvChunk* c);
  int64_t csv_bytes() const { return csv_bytes_; }

 private:
  const std::vector<std::string>& files_;
  char quote_;
  bool read_ahead_;
  size_t chunk_bytes_, max_row_;
  size_t file_ = 0;
  int64_t seq_ = 0;
  int64_t csv_bytes_ = 0;
  std::unique_ptr<engine::InputStream> stream_;
  std::unique_ptr<engine::CsvSplitter> splitter_;
};

// One parse+encode thread: parses its chunks and writes them to its own Parquet files.
class Lane {
 public:
  Lane(int id, Shared* shared);

  absl::Status Process(const engine::CsvChunk& chunk);
  // Closes every open file.
  absl::Status Finish();

  const engine::CsvParseStats& stats() const { return stats_; }
  std::vector<engine::OutputFile>& files() { return files_; }

 private:
  struct OpenFile {
    std::unique_ptr<engine::ParquetWriter> writer;
    std::string rel_path;
    uint64_t last_use = 0;
  };

  absl::Status WriteProjected();
  absl::Status WritePartitioned();
  void AppendPartitionValue(const PartitionSpec& spec, const engine::Column& c, size_t r,
                            std::string* out);
  absl::Status WriteTo(const std::string& dir, const engine::Batch& batch);
  absl::Status CloseFile(const std::string& dir);

  const int id_;
  Shared* sh_;
  engine::CsvChunkParser parser_;
  engine::Batch batch_;
  engine::Batch out_;
  engine::Batch view_;             // the output columns of batch_, swapped in while gathering
  engine::CsvParseStats stats_;
  std::vector<engine::CsvReject> rejects_;
  std::map<std::string, OpenFile> open_;
  std::map<std::string, int> seq_;
  std::unordered_map<std::string, std::vector<uint32_t>> groups_;
  std::vector<engine::OutputFile> files_;
  uint64_t clock_ = 0;
  int64_t cached_day_ = INT64_MIN;
  std::string cached_day_str_;
};

// Feeds every chunk of `source` to `lanes` (on threads of their own when there are several) and
// finishes them; the first error is in sh->error.
void RunLanes(Shared* sh, ChunkSource* source, std::vector<std::unique_ptr<Lane>>* lanes);

}  // namespace de::tasks::c2p
