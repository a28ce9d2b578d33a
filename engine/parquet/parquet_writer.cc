// ParquetWriter: the file (magic, row groups of column chunks, footer), the row-group cut, the
// column threads. Each column chunk is encoded by a ColumnWriter (column_writer.h).
#include "engine/parquet/parquet_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/version.h"
#include "engine/io/codec.h"
#include "engine/parquet/bit_util.h"
#include "engine/parquet/column_writer.h"
#include "engine/parquet/parquet_format.h"

namespace de::engine {
namespace {

namespace pq = ::de::engine::parquet;
using parquet_internal::ColumnWriter;
using parquet_internal::kMiniBatchRows;
using parquet_internal::PhysicalFor;

constexpr size_t kSliceRows = 128 * 1024;     // row-group-size checks (and thread hand-offs)

pq::SchemaElement LeafElement(const Field& f) {
  pq::SchemaElement e;
  e.name = f.name;
  e.type = PhysicalFor(f.type);
  e.repetition_type = f.nullable ? pq::Repetition::kOptional : pq::Repetition::kRequired;
  switch (f.type) {
    case Type::kDate:
      e.converted_type = pq::ConvertedType::kDate;
      e.logical_type.kind = pq::LogicalType::kDate;
      break;
    case Type::kTimestamp:
      e.converted_type = pq::ConvertedType::kTimestampMicros;
      e.logical_type.kind = pq::LogicalType::kTimestamp;
      e.logical_type.is_adjusted_to_utc = true;
      e.logical_type.unit = pq::TimeUnit::kMicros;
      break;
    case Type::kString:
      e.converted_type = pq::ConvertedType::kUtf8;
      e.logical_type.kind = pq::LogicalType::kString;
      break;
    case Type::kDecimal:
      e.converted_type = pq::ConvertedType::kDecimal;
      e.precision = f.precision;
      e.scale = f.scale;
      e.logical_type.kind = pq::LogicalType::kDecimal;
      e.logical_type.precision = f.precision;
      e.logical_type.scale = f.scale;
      break;
    default:
      break;
  }
  return e;
}

// A fixed set of threads that run fn(0..n-1) together with the calling thread (columns of a slice).
class ColumnPool {
 public:
  explicit ColumnPool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~ColumnPool() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    start_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Returns when fn has run for every index.
  void Run(size_t n, const std::function<void(size_t)>& fn) {
    {
      std::lock_guard<std::mutex> l(mu_);
      fn_ = &fn;
      n_ = n;
      next_.store(0);
      active_ = static_cast<int>(threads_.size());
      ++generation_;
    }
    start_cv_.notify_all();
    Work();
    std::unique_lock<std::mutex> l(mu_);
    done_cv_.wait(l, [&] { return active_ == 0; });
    fn_ = nullptr;
  }

 private:
  void Work() {
    for (size_t i; (i = next_.fetch_add(1)) < n_;) (*fn_)(i);
  }
  void Loop() {
    uint64_t seen = 0;
    while (true) {
      {
        std::unique_lock<std::mutex> l(mu_);
        start_cv_.wait(l, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      Work();
      std::lock_guard<std::mutex> l(mu_);
      if (--active_ == 0) done_cv_.notify_one();
    }
  }

  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  std::atomic<size_t> next_{0};
  int active_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

absl::Status CheckColumn(const Field& f, const Column& c, size_t rows) {
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("parquet writer: column '", f.name, "': ", what));
  };
  if (c.type != f.type) return bad(absl::StrCat("type ", TypeName(c.type), " does not match the schema's ", TypeName(f.type)));
  if (c.valid.size() != rows) return bad("row count differs from the batch");
  if (f.type == Type::kDecimal &&
      (f.precision < 1 || f.precision > kMaxDecimalPrecision || f.scale < 0 || f.scale > f.precision)) {
    return bad(absl::StrCat("decimal(", f.precision, ",", f.scale, ") is not a valid decimal type (precision 1..",
                            kMaxDecimalPrecision, ", scale 0..precision)"));
  }
  size_t have = 0;
  switch (f.type) {
    case Type::kBool: have = c.u8.size(); break;
    case Type::kInt32:
    case Type::kDate: have = c.i32.size(); break;
    case Type::kInt64:
    case Type::kDecimal:
    case Type::kTimestamp: have = c.i64.size(); break;
    case Type::kDouble: have = c.f64.size(); break;
    case Type::kString:
      if (c.offsets.size() != rows + 1 || c.offsets.back() > c.bytes.size()) return bad("bad string offsets");
      have = rows;
      break;
  }
  if (have < rows) return bad("fewer values than rows");
  if (!f.nullable && std::memchr(c.valid.data(), 0, rows) != nullptr) {
    return bad("null value in a non-nullable column");
  }
  return absl::OkStatus();
}

class ParquetWriterImpl final : public ParquetWriter {
 public:
  ParquetWriterImpl(std::string path, int fd, const Schema& schema, const ParquetWriterOptions& options)
      : path_(std::move(path)), fd_(fd), schema_(schema), options_(options) {
    for (const Field& f : schema_) columns_.push_back(std::make_unique<ColumnWriter>(f, options_));
    int threads = std::min<int>(options_.threads, static_cast<int>(columns_.size()));
    if (threads > 1) pool_ = std::make_unique<ColumnPool>(threads - 1);
  }
  ~ParquetWriterImpl() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Start() { return WriteAll("PAR1", 4); }

  absl::Status Write(const Batch& batch) override {
    if (fd_ < 0) return absl::FailedPreconditionError("parquet writer: already closed");
    if (batch.columns.size() != schema_.size()) {
      return absl::InvalidArgumentError(absl::StrCat("parquet writer: batch has ", batch.columns.size(),
                                                     " columns, schema has ", schema_.size()));
    }
    for (size_t c = 0; c < schema_.size(); ++c) {
      DE_RETURN_IF_ERROR(CheckColumn(schema_[c], batch.columns[c], batch.num_rows));
    }
    size_t pos = 0;
    while (pos < batch.num_rows) {
      size_t room = static_cast<size_t>(std::max<int64_t>(1, options_.row_group_rows - rg_rows_));
      size_t take = std::min({batch.num_rows - pos, room, kSliceRows});
      // Keep the row group near row_group_bytes: no slice may add more than ~1/8 of it.
      if (rg_rows_ > 0) {
        double per_row = static_cast<double>(RowGroupEstimate()) / static_cast<double>(rg_rows_);
        double rows_for_bytes = static_cast<double>(options_.row_group_bytes) / 8 / std::max(per_row, 1e-3);
        take = std::min(take, static_cast<size_t>(std::max(rows_for_bytes, 1024.0)));
      } else {
        take = std::min(take, kMiniBatchRows * 4);
      }
      DE_RETURN_IF_ERROR(RunColumns([&](size_t c) { return columns_[c]->Append(batch.columns[c], pos, pos + take); }));
      rg_rows_ += static_cast<int64_t>(take);
      rows_written_ += static_cast<int64_t>(take);
      pos += take;
      if (rg_rows_ >= options_.row_group_rows || RowGroupEstimate() >= options_.row_group_bytes) {
        DE_RETURN_IF_ERROR(FlushRowGroup());
      }
    }
    return absl::OkStatus();
  }

  int64_t EstimatedFileBytes() const override {
    int64_t footer = 256 + static_cast<int64_t>(columns_.size()) *
                               (64 + 160 * static_cast<int64_t>(meta_.row_groups.size() + 1));
    return offset_ + RowGroupEstimate() + footer;
  }

  int64_t rows_written() const override { return rows_written_; }

  absl::Status Close() override {
    if (fd_ < 0) return absl::FailedPreconditionError("parquet writer: already closed");
    if (rg_rows_ > 0) DE_RETURN_IF_ERROR(FlushRowGroup());
    meta_.version = 1;
    meta_.schema.clear();
    pq::SchemaElement root;
    root.name = "schema";
    root.num_children = static_cast<int32_t>(schema_.size());
    meta_.schema.push_back(root);
    for (const Field& f : schema_) meta_.schema.push_back(LeafElement(f));
    meta_.num_rows = rows_written_;
    meta_.key_value_metadata.clear();
    for (const auto& [k, v] : options_.key_value_metadata) meta_.key_value_metadata.push_back({k, v});
    meta_.created_by = absl::StrCat("de version ", de::common::Version(), " (build de)");
    meta_.num_column_orders = static_cast<int32_t>(schema_.size());
    std::string footer;
    pq::SerializeFileMetaData(meta_, &footer);
    char tail[8];
    StoreLE32(tail, static_cast<uint32_t>(footer.size()));
    std::memcpy(tail + 4, "PAR1", 4);
    footer.append(tail, 8);
    DE_RETURN_IF_ERROR(WriteAll(footer.data(), footer.size()));
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return absl::InternalError(absl::StrCat("close ", path_, ": ", std::strerror(errno)));
    return absl::OkStatus();
  }

 private:
  int64_t RowGroupEstimate() const {
    int64_t total = 0;
    for (const auto& c : columns_) total += c->EstimatedChunkBytes();
    return total;
  }

  // Runs fn(column) for every column: on the pool when there is one (columns are independent).
  template <typename Fn>
  absl::Status RunColumns(Fn fn) {
    size_t n = columns_.size();
    if (pool_ == nullptr) {
      for (size_t c = 0; c < n; ++c) DE_RETURN_IF_ERROR(fn(c));
      return absl::OkStatus();
    }
    std::vector<absl::Status> status(n);
    pool_->Run(n, [&](size_t c) { status[c] = fn(c); });
    for (auto& s : status) DE_RETURN_IF_ERROR(s);
    return absl::OkStatus();
  }

  absl::Status FlushRowGroup() {
    DE_RETURN_IF_ERROR(RunColumns([&](size_t c) { return columns_[c]->FinishChunk(); }));
    pq::RowGroup rg;
    rg.num_rows = rg_rows_;
    rg.file_offset = offset_;
    if (meta_.row_groups.size() <= INT16_MAX) rg.ordinal = static_cast<int16_t>(meta_.row_groups.size());
    int64_t compressed = 0;
    for (auto& col : columns_) {
      int64_t chunk_offset = offset_;
      DE_RETURN_IF_ERROR(WriteAll(col->dict_page().data(), col->dict_page().size()));
      DE_RETURN_IF_ERROR(WriteAll(col->data_pages().data(), col->data_pages().size()));
      pq::ColumnChunk cc;
      cc.file_offset = 0;
      cc.meta_data = col->BuildMetaData(chunk_offset);
      rg.total_byte_size += cc.meta_data->total_uncompressed_size;
      compressed += cc.meta_data->total_compressed_size;
      rg.columns.push_back(std::move(cc));
      col->ResetChunk();
    }
    rg.total_compressed_size = compressed;
    meta_.row_groups.push_back(std::move(rg));
    rg_rows_ = 0;
    return absl::OkStatus();
  }

  absl::Status WriteAll(const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return absl::InternalError(absl::StrCat("write ", path_, ": ", std::strerror(errno)));
      }
      p += w;
      n -= static_cast<size_t>(w);
      offset_ += w;
    }
    return absl::OkStatus();
  }

  const std::string path_;
  int fd_;
  const Schema schema_;
  const ParquetWriterOptions options_;
  std::vector<std::unique_ptr<ColumnWriter>> columns_;
  std::unique_ptr<ColumnPool> pool_;
  pq::FileMetaData meta_;
  int64_t offset_ = 0;
  int64_t rg_rows_ = 0;
  int64_t rows_written_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ParquetWriter>> ParquetWriter::Open(const std::string& path, const Schema& schema,
                                                                   const ParquetWriterOptions& options) {
  if (schema.empty()) return absl::InvalidArgumentError("parquet writer: empty schema");
  if (options.row_group_rows <= 0 || options.page_bytes <= 0 || options.page_rows <= 0) {
    return absl::InvalidArgumentError("parquet writer: row_group_rows, page_bytes and page_rows must be positive");
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  auto w = std::make_unique<ParquetWriterImpl>(path, fd, schema, options);
  DE_RETURN_IF_ERROR(w->Start());
  return w;
}

}  // namespace de::engine
