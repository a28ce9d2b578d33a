#include "engine/io/sink.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <list>
#include <map>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/csv/csv_reader.h"
#include "engine/csv/csv_values.h"
#include "engine/io/paths.h"

namespace de::engine {

namespace fs = std::filesystem;

bool ParseOutputFormat(std::string_view s, OutputFormat* out) {
  std::string l = absl::AsciiStrToLower(std::string(s));
  if (l == "parquet") {
    *out = OutputFormat::kParquet;
  } else if (l == "csv") {
    *out = OutputFormat::kCsv;
  } else {
    return false;
  }
  return true;
}

namespace {

// Copies len bytes from in + a to out + pos; a short string (<= 16 bytes) as two fixed 8-byte
// moves when both buffers have the room (no call per value), else memcpy.
inline void CopyBytes(char* out, size_t pos, size_t out_size, const char* in, size_t a,
                      size_t in_size, size_t len) {
  if (len <= 16 && pos + 16 <= out_size && a + 16 <= in_size) {
    std::memcpy(out + pos, in + a, 8);
    std::memcpy(out + pos + 8, in + a + 8, 8);
  } else if (len > 0) {
    std::memcpy(out + pos, in + a, len);
  }
}

}  // namespace

void Gather(const Batch& in, const Selection& sel, Batch* out) {
  const size_t n = sel.size();
  out->columns.resize(in.columns.size());
  out->num_rows = n;
  for (size_t c = 0; c < in.columns.size(); ++c) {
    const Column& src = in.columns[c];
    Column& dst = out->columns[c];
    dst.type = src.type;
    dst.Clear();
    dst.valid.resize(n);
    for (size_t i = 0; i < n; ++i) dst.valid[i] = src.valid[sel[i]];
    switch (src.type) {
      case Type::kBool:
        dst.u8.resize(n);
        for (size_t i = 0; i < n; ++i) dst.u8[i] = src.u8[sel[i]];
        break;
      case Type::kInt32:
      case Type::kDate:
        dst.i32.resize(n);
        for (size_t i = 0; i < n; ++i) dst.i32[i] = src.i32[sel[i]];
        break;
      case Type::kInt64:
      case Type::kTimestamp:
      case Type::kDecimal:
        dst.scale = src.scale;
        dst.i64.resize(n);
        for (size_t i = 0; i < n; ++i) dst.i64[i] = src.i64[sel[i]];
        break;
      case Type::kDouble:
        dst.f64.resize(n);
        for (size_t i = 0; i < n; ++i) dst.f64[i] = src.f64[sel[i]];
        break;
      case Type::kString: {
        const uint32_t* off = src.offsets.data();
        size_t total = 0;
        for (size_t i = 0; i < n; ++i) total += off[sel[i] + 1] - off[sel[i]];
        dst.offsets.resize(n + 1);
        dst.bytes.resize(total);
        char* out = dst.bytes.data();
        const char* in = src.bytes.data();
        const size_t in_size = src.bytes.size();
        size_t pos = 0;
        for (size_t i = 0; i < n; ++i) {
          const uint32_t a = off[sel[i]], len = off[sel[i] + 1] - a;
          CopyBytes(out, pos, total, in, a, in_size, len);
          pos += len;
          dst.offsets[i + 1] = static_cast<uint32_t>(pos);
        }
        break;
      }
    }
  }
}

std::string FormatValue(const Column& c, size_t row) {
  if (!c.valid[row]) return "";
  switch (c.type) {
    case Type::kBool: return c.u8[row] ? "true" : "false";
    case Type::kInt32: return absl::StrCat(c.i32[row]);
    case Type::kInt64: return absl::StrCat(c.i64[row]);
    case Type::kDate: return FormatDate(c.i32[row]);
    case Type::kTimestamp: return FormatTimestamp(c.i64[row]);
    case Type::kDouble: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof(buf), c.f64[row]);  // shortest round-trip form
      return std::string(buf, r.ptr);
    }
    case Type::kString: return std::string(c.str(row));
    case Type::kDecimal: return FormatDecimal(c.i64[row], c.scale);
  }
  return "";
}

// One output file being written (Parquet or CSV).
class OutFile {
 public:
  static absl::StatusOr<std::unique_ptr<OutFile>> Open(const std::string& dir,
                                                       const std::string& rel,
                                                       const Schema& schema,
                                                       const SinkOptions& o) {
    auto f = std::unique_ptr<OutFile>(new OutFile());
    f->info_.rel_path = rel;
    f->path_ = (fs::path(dir) / rel).string();
    std::error_code ec;
    fs::create_directories(fs::path(f->path_).parent_path(), ec);
    if (o.format == OutputFormat::kParquet) {
      DE_ASSIGN_OR_RETURN(f->pq_, ParquetWriter::Open(f->path_, schema, o.parquet));
    } else {
      f->csv_ = std::fopen(f->path_.c_str(), "wb");
      if (!f->csv_) return absl::InternalError(absl::StrCat(f->path_, ": ", std::strerror(errno)));
      std::string header;
      for (size_t i = 0; i < schema.size(); ++i) {
        if (i) header.push_back(',');
        AppendCsvField(schema[i].name, &header);
      }
      header.push_back('\n');
      DE_RETURN_IF_ERROR(f->WriteCsv(header));
    }
    return f;
  }
  ~OutFile() {
    if (csv_) std::fclose(csv_);
  }

  absl::Status Write(const Batch& b) {
    info_.rows += static_cast<int64_t>(b.num_rows);
    if (pq_) return pq_->Write(b);
    std::string buf;
    for (size_t r = 0; r < b.num_rows; ++r) {
      for (size_t c = 0; c < b.columns.size(); ++c) {
        if (c) buf.push_back(',');
        const Column& col = b.columns[c];
        if (!col.valid[r]) continue;
        if (col.type == Type::kString) {
          std::string_view v = col.str(r);
          // An empty string must differ from null (empty field): quote it.
          if (v.empty()) {
            buf.append("\"\"");
          } else {
            AppendCsvField(v, &buf);
          }
        } else {
          buf.append(FormatValue(col, r));
        }
      }
      buf.push_back('\n');
    }
    return WriteCsv(buf);
  }

  int64_t EstimatedBytes() const { return pq_ ? pq_->EstimatedFileBytes() : csv_bytes_; }

  absl::StatusOr<OutputFile> Close() {
    if (pq_) {
      DE_RETURN_IF_ERROR(pq_->Close());
      pq_.reset();
    }
    if (csv_) {
      int rc = std::fclose(csv_);
      csv_ = nullptr;
      if (rc != 0) return absl::InternalError(absl::StrCat(path_, ": close failed (disk full?)"));
    }
    std::error_code ec;
    info_.bytes = static_cast<int64_t>(fs::file_size(path_, ec));
    return info_;
  }

 private:
  OutFile() = default;
  absl::Status WriteCsv(const std::string& s) {
    if (std::fwrite(s.data(), 1, s.size(), csv_) != s.size()) {
      return absl::InternalError(absl::StrCat(path_, ": write failed (disk full?)"));
    }
    csv_bytes_ += static_cast<int64_t>(s.size());
    return absl::OkStatus();
  }

  std::string path_;
  OutputFile info_;
  std::unique_ptr<ParquetWriter> pq_;
  FILE* csv_ = nullptr;
  int64_t csv_bytes_ = 0;
};

// A thread's writer: one open file per partition (at most kMaxOpen; the least recently used is
// closed when more are needed, and a new file is started if its partition comes back).
class SinkWriterImpl : public TableSink::Writer {
 public:
  static constexpr size_t kMaxOpen = 64;

  explicit SinkWriterImpl(TableSink* sink) : sink_(sink) {}
  ~SinkWriterImpl() override { (void)Close(); }

  absl::Status Write(const Batch& batch, const Selection& sel) override {
    if (sel.empty()) return absl::OkStatus();
    if (sink_->part_cols_.empty()) return WriteTo("", batch, sel);
    // Group the selected rows by their partition folder.
    groups_.clear();
    std::string key;
    for (size_t i = 0; i < sel.size(); ++i) {
      const uint32_t r = sel[i];
      key.clear();
      for (size_t p = 0; p < sink_->part_cols_.size(); ++p) {
        const int c = sink_->part_cols_[p];
        const Column& col = batch.columns[c];
        absl::StrAppend(&key, p ? "/" : "", sink_->schema_[c].name, "=",
                        col.valid[r] ? EscapePartitionValue(FormatValue(col, r))
                                     : std::string("__HIVE_DEFAULT_PARTITION__"));
      }
      groups_[key].push_back(r);
    }
    for (auto& [dir, rows] : groups_) {
      DE_RETURN_IF_ERROR(WriteTo(dir, batch, Selection::Of(std::move(rows))));
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    absl::Status first;
    for (auto& [dir, f] : open_) {
      auto info = f->Close();
      if (info.ok()) {
        sink_->AddFile(*info);
      } else if (first.ok()) {
        first = info.status();
      }
    }
    open_.clear();
    lru_.clear();
    return first;
  }

 private:
  absl::Status WriteTo(const std::string& dir, const Batch& batch, const Selection& sel) {
    // The file's columns only (partition columns live in the folder name).
    const bool direct = sel.all() && sink_->file_cols_.size() == batch.columns.size();
    const Batch* src = &batch;
    if (!direct) {
      projected_.columns.resize(sink_->file_cols_.size());
      projected_.num_rows = sel.size();
      Batch view;   // the file columns of `batch`, borrowed by swapping
      view.columns.resize(sink_->file_cols_.size());
      view.num_rows = batch.num_rows;
      auto& mutable_batch = const_cast<Batch&>(batch);
      for (size_t i = 0; i < sink_->file_cols_.size(); ++i) {
        std::swap(view.columns[i], mutable_batch.columns[sink_->file_cols_[i]]);
      }
      Gather(view, sel, &projected_);
      for (size_t i = 0; i < sink_->file_cols_.size(); ++i) {
        std::swap(view.columns[i], mutable_batch.columns[sink_->file_cols_[i]]);
      }
      src = &projected_;
    }
    DE_ASSIGN_OR_RETURN(OutFile * f, FileFor(dir));
    DE_RETURN_IF_ERROR(f->Write(*src));
    if (f->EstimatedBytes() >= sink_->options_.target_file_size) {
      DE_RETURN_IF_ERROR(CloseFile(dir));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<OutFile*> FileFor(const std::string& dir) {
    auto it = open_.find(dir);
    if (it != open_.end()) {
      lru_.remove(dir);
      lru_.push_front(dir);
      return it->second.get();
    }
    if (open_.size() >= kMaxOpen) DE_RETURN_IF_ERROR(CloseFile(lru_.back()));
    DE_ASSIGN_OR_RETURN(auto f, OutFile::Open(sink_->dir_, sink_->NextFileName(dir),
                                              sink_->file_schema_, sink_->options_));
    OutFile* raw = f.get();
    open_[dir] = std::move(f);
    lru_.push_front(dir);
    return raw;
  }

  absl::Status CloseFile(const std::string& dir) {
    auto it = open_.find(dir);
    if (it == open_.end()) return absl::OkStatus();
    auto info = it->second->Close();
    open_.erase(it);
    lru_.remove(dir);
    DE_RETURN_IF_ERROR(info.status());
    sink_->AddFile(*info);
    return absl::OkStatus();
  }

  TableSink* const sink_;
  std::map<std::string, std::unique_ptr<OutFile>> open_;
  std::list<std::string> lru_;
  std::map<std::string, std::vector<uint32_t>> groups_;
  Batch projected_;
};

absl::StatusOr<std::unique_ptr<TableSink>> TableSink::Open(std::string dir, Schema schema,
                                                           SinkOptions options) {
  auto sink = std::unique_ptr<TableSink>(new TableSink(std::move(dir), std::move(schema),
                                                       std::move(options)));
  std::vector<std::string> names;
  for (const auto& f : sink->schema_) names.push_back(f.name);
  for (const auto& p : sink->options_.partition_by) {
    auto it = std::find(names.begin(), names.end(), p);
    if (it == names.end()) {
      return absl::InvalidArgumentError(absl::StrCat("partition_by: no column '", p,
                                                     "' (columns: ", absl::StrJoin(names, ", "), ")"));
    }
    sink->part_cols_.push_back(static_cast<int>(it - names.begin()));
  }
  for (size_t c = 0; c < sink->schema_.size(); ++c) {
    if (std::find(sink->part_cols_.begin(), sink->part_cols_.end(), static_cast<int>(c)) !=
        sink->part_cols_.end()) {
      continue;
    }
    sink->file_cols_.push_back(static_cast<int>(c));
    sink->file_schema_.push_back(sink->schema_[c]);
  }
  if (sink->file_schema_.empty()) {
    return absl::InvalidArgumentError(
        "partition_by: every column is a partition column; nothing is left to write into the files");
  }
  return sink;
}

TableSink::TableSink(std::string dir, Schema schema, SinkOptions options)
    : dir_(std::move(dir)), schema_(std::move(schema)), options_(std::move(options)) {}

TableSink::~TableSink() = default;

std::unique_ptr<TableSink::Writer> TableSink::NewWriter() {
  return std::make_unique<SinkWriterImpl>(this);
}

std::string TableSink::NextFileName(const std::string& subdir) {
  std::lock_guard<std::mutex> lock(mu_);
  const char* ext = options_.format == OutputFormat::kParquet ? "parquet" : "csv";
  std::string name = absl::StrFormat("%s-%05d.%s", options_.file_prefix, next_file_++, ext);
  return subdir.empty() ? name : subdir + "/" + name;
}

void TableSink::AddFile(OutputFile f) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.push_back(std::move(f));
}

absl::StatusOr<std::vector<OutputFile>> TableSink::Finish() {
  std::vector<OutputFile> files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files = files_;
  }
  if (files.empty() && part_cols_.empty()) {
    DE_ASSIGN_OR_RETURN(auto f, OutFile::Open(dir_, NextFileName(""), file_schema_, options_));
    DE_ASSIGN_OR_RETURN(OutputFile info, f->Close());
    files.push_back(info);
  }
  std::sort(files.begin(), files.end(),
            [](const OutputFile& a, const OutputFile& b) { return a.rel_path < b.rel_path; });
  return files;
}

}  // namespace de::engine
