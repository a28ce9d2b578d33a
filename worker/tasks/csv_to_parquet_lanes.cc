#include "worker/tasks/csv_to_parquet_lanes.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "engine/columnar/bounded_queue.h"
#include "engine/columnar/selection.h"
#include "engine/csv/csv_values.h"
#include "engine/io/paths.h"
#include "engine/io/read_ahead_stream.h"
#include "engine/io/sink.h"

namespace de::tasks::c2p {

namespace fs = std::filesystem;
using engine::Batch;
using engine::Column;
using engine::CsvChunk;
using engine::Type;

namespace {

constexpr const char* kDefaultPartition = "__HIVE_DEFAULT_PARTITION__";
// Chunks waiting per lane: chunks go to lanes in turn, so a lane that is slower on one chunk
// must not stall the reader (and the other lanes) at once.
constexpr size_t kLaneQueue = 4;

// DE_READ_AHEAD=0 turns the inflate thread off (to measure what it gains).
bool ReadAheadEnabled() {
  static const bool enabled = [] {
    const char* e = std::getenv("DE_READ_AHEAD");
    return e == nullptr || std::string_view(e) != "0";
  }();
  return enabled;
}

// Swaps the output columns of `from` with the columns of `to` (a projection without copies;
// calling it again swaps them back).
void SwapColumns(const std::vector<int>& cols, Batch* from, Batch* to) {
  for (size_t i = 0; i < cols.size(); ++i) std::swap(to->columns[i], from->columns[cols[i]]);
  to->num_rows = from->num_rows;
}

}  // namespace

void Shared::Fail(absl::Status s) {
  std::lock_guard<std::mutex> lock(mu);
  if (error.ok()) error = std::move(s);
  stop = true;
}

bool Shared::cancelled() const {
  return stop.load(std::memory_order_relaxed) ||
         (ctx->cancelled && ctx->cancelled->load(std::memory_order_relaxed));
}

absl::StatusOr<bool> ChunkSource::Next(CsvChunk* c) {
  while (true) {
    if (!splitter_) {
      if (file_ >= files_.size()) return false;
      DE_ASSIGN_OR_RETURN(stream_, engine::OpenInputStream(files_[file_]));
      // Inflate on a thread of its own, a few MB ahead of the splitter and the lane.
      if (read_ahead_ && stream_->compression() != engine::InputCompression::kNone &&
          ReadAheadEnabled()) {
        stream_ = engine::NewReadAheadInputStream(std::move(stream_));
      }
      splitter_ = std::make_unique<engine::CsvSplitter>(stream_.get(), quote_, chunk_bytes_, max_row_);
    }
    DE_ASSIGN_OR_RETURN(bool more, splitter_->Next(c));
    if (more) {
      c->file_index = static_cast<int>(file_);
      c->seq = seq_++;
      csv_bytes_ += static_cast<int64_t>(c->size);
      return true;
    }
    splitter_.reset();
    stream_.reset();
    ++file_;
  }
}

Lane::Lane(int id, Shared* shared) : id_(id), sh_(shared), parser_(*shared->format) {
  engine::InitBatch(shared->format->schema, &batch_);
  engine::InitBatch(shared->out_schema, &out_);
  engine::InitBatch(shared->out_schema, &view_);
}

absl::Status Lane::Process(const CsvChunk& chunk) {
  engine::ClearBatch(&batch_);
  rejects_.clear();
  const std::string& source = sh_->params->input_files[chunk.file_index];
  DE_RETURN_IF_ERROR(parser_.Parse(chunk.data.get(), chunk.size, chunk.first_line,
                                   sh_->format->header && chunk.file_start, source, &batch_,
                                   &stats_, &rejects_));
  if (!rejects_.empty()) DE_RETURN_IF_ERROR(sh_->rejects->Write(source, rejects_));
  if (batch_.num_rows == 0) return absl::OkStatus();
  if (!sh_->part_cols.empty()) return WritePartitioned();
  if (sh_->out_cols.size() == batch_.columns.size()) return WriteTo("", batch_);
  return WriteProjected();
}

absl::Status Lane::WriteProjected() {
  SwapColumns(sh_->out_cols, &batch_, &out_);
  absl::Status st = WriteTo("", out_);
  SwapColumns(sh_->out_cols, &batch_, &out_);
  return st;
}

absl::Status Lane::Finish() {
  while (!open_.empty()) DE_RETURN_IF_ERROR(CloseFile(open_.begin()->first));
  return absl::OkStatus();
}

absl::Status Lane::WritePartitioned() {
  for (auto& [k, rows] : groups_) rows.clear();
  if (groups_.size() > 4096) groups_.clear();
  std::string key;
  for (size_t r = 0; r < batch_.num_rows; ++r) {
    key.clear();
    for (size_t p = 0; p < sh_->part_cols.size(); ++p) {
      const PartitionSpec& spec = sh_->params->partition_by[p];
      absl::StrAppend(&key, spec.name, "=");
      AppendPartitionValue(spec, batch_.columns[sh_->part_cols[p]], r, &key);
      key.push_back('/');
    }
    groups_[key].push_back(static_cast<uint32_t>(r));
  }
  SwapColumns(sh_->out_cols, &batch_, &view_);
  absl::Status st;
  for (auto& [dir, rows] : groups_) {
    if (rows.empty()) continue;
    engine::Selection sel = engine::Selection::Of(std::move(rows));
    engine::Gather(view_, sel, &out_);
    rows = std::move(sel.Indices());  // keeps the buffer for the next chunk
    st = WriteTo(dir, out_);
    if (!st.ok()) break;
  }
  SwapColumns(sh_->out_cols, &batch_, &view_);
  return st;
}

void Lane::AppendPartitionValue(const PartitionSpec& spec, const Column& c, size_t r,
                                std::string* out) {
  const bool by_day = c.type == Type::kDate ||
                      (c.type == Type::kTimestamp && spec.bucket != PartitionSpec::Bucket::kNone);
  if (!c.valid[r] || (c.type == Type::kString && c.str(r).empty())) {
    out->append(kDefaultPartition);
  } else if (!by_day) {
    out->append(engine::EscapePartitionValue(engine::FormatValue(c, r)));
  } else {
    const int64_t day =
        c.type == Type::kDate
            ? c.i32[r]
            : static_cast<int64_t>(std::floor(static_cast<double>(c.i64[r]) / 86400e6));
    if (day != cached_day_) {  // rows of a chunk mostly share their day
      cached_day_ = day;
      cached_day_str_ = engine::FormatDate(static_cast<int32_t>(day));
    }
    out->append(engine::EscapePartitionValue(spec.bucket == PartitionSpec::Bucket::kMonth
                                                 ? std::string_view(cached_day_str_).substr(0, 7)
                                                 : std::string_view(cached_day_str_)));
  }
}

absl::Status Lane::WriteTo(const std::string& dir, const Batch& batch) {
  auto it = open_.find(dir);
  if (it == open_.end()) {
    if (static_cast<int>(open_.size()) >= sh_->max_open_per_lane) {
      auto lru = std::min_element(open_.begin(), open_.end(), [](const auto& a, const auto& b) {
        return a.second.last_use < b.second.last_use;
      });
      DE_RETURN_IF_ERROR(CloseFile(lru->first));
    }
    int n = seq_[dir]++;
    OpenFile f;
    f.rel_path = absl::StrFormat("%spart-%05d.parquet", dir, n * sh_->lanes + id_);
    fs::path full = fs::path(sh_->tmp_dir) / f.rel_path;
    if (!dir.empty()) {
      std::error_code ec;
      fs::create_directories(full.parent_path(), ec);
      if (ec) return absl::InternalError(absl::StrCat(full.parent_path().string(), ": ", ec.message()));
    }
    DE_ASSIGN_OR_RETURN(f.writer, engine::ParquetWriter::Open(full.string(), sh_->out_schema,
                                                             sh_->writer_options));
    it = open_.emplace(dir, std::move(f)).first;
  }
  it->second.last_use = ++clock_;
  DE_RETURN_IF_ERROR(it->second.writer->Write(batch));
  if (it->second.writer->EstimatedFileBytes() >= sh_->params->target_file_size) {
    return CloseFile(dir);
  }
  return absl::OkStatus();
}

absl::Status Lane::CloseFile(const std::string& dir) {
  auto it = open_.find(dir);
  OpenFile f = std::move(it->second);
  open_.erase(it);
  DE_RETURN_IF_ERROR(f.writer->Close());
  engine::OutputFile info;
  info.rel_path = f.rel_path;
  info.rows = f.writer->rows_written();
  std::error_code ec;
  info.bytes = static_cast<int64_t>(fs::file_size(fs::path(sh_->tmp_dir) / f.rel_path, ec));
  files_.push_back(std::move(info));
  return absl::OkStatus();
}

namespace {

void RunOneLane(Shared* sh, ChunkSource* source, Lane* lane) {
  CsvChunk chunk;
  while (!sh->cancelled()) {
    auto more = source->Next(&chunk);
    if (!more.ok()) {
      sh->Fail(more.status());
      break;
    }
    if (!*more) break;
    absl::Status st = lane->Process(chunk);
    if (!st.ok()) sh->Fail(st);
  }
  if (!sh->stop) {
    absl::Status st = lane->Finish();
    if (!st.ok()) sh->Fail(st);
  }
}

}  // namespace

void RunLanes(Shared* sh, ChunkSource* source, std::vector<std::unique_ptr<Lane>>* lanes) {
  if (sh->lanes == 1) return RunOneLane(sh, source, (*lanes)[0].get());
  using ChunkPtr = std::unique_ptr<CsvChunk>;
  engine::BoundedQueue<ChunkPtr> free_chunks(1024);
  std::vector<std::unique_ptr<engine::BoundedQueue<ChunkPtr>>> queues;
  for (int i = 0; i < sh->lanes; ++i) {
    queues.push_back(std::make_unique<engine::BoundedQueue<ChunkPtr>>(kLaneQueue));
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < sh->lanes; ++i) {
    threads.emplace_back([&, i] {
      Lane* lane = (*lanes)[i].get();
      while (auto c = queues[i]->Pop()) {
        if (sh->cancelled()) break;
        absl::Status st = lane->Process(**c);
        if (!st.ok()) {
          sh->Fail(st);
          break;
        }
        free_chunks.Push(std::move(*c));
      }
      if (!sh->stop) {
        absl::Status st = lane->Finish();
        if (!st.ok()) sh->Fail(st);
      }
      if (sh->stop) {
        for (auto& q : queues) q->Close();
      }
    });
  }
  while (!sh->cancelled()) {
    ChunkPtr c;
    if (auto reuse = free_chunks.TryPop()) c = std::move(*reuse);
    else c = std::make_unique<CsvChunk>();
    auto more = source->Next(c.get());
    if (!more.ok()) {
      sh->Fail(more.status());
      break;
    }
    if (!*more) break;
    int lane = static_cast<int>(c->seq % sh->lanes);
    if (!queues[lane]->Push(std::move(c))) break;
  }
  for (auto& q : queues) q->Close();
  for (auto& t : threads) t.join();
}

}  // namespace de::tasks::c2p
