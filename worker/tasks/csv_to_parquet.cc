#include "worker/tasks/csv_to_parquet.h"

#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/columnar/bounded_queue.h"
#include "engine/csv/csv_values.h"
#include "engine/io/json.h"
#include "engine/io/output_commit.h"
#include "engine/io/paths.h"
#include "engine/io/input_stream.h"
#include "engine/io/read_ahead_stream.h"

namespace de::tasks {

namespace fs = std::filesystem;
using engine::Batch;
using engine::Column;
using engine::CsvChunk;
using engine::Type;

namespace {

constexpr const char* kDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

// ---------------------------------------------------------------------------------------------
// Small helpers.

absl::StatusOr<std::string> Scalar(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) return absl::InvalidArgumentError(absl::StrCat(key, ": expected a value"));
  return n.Scalar();
}

absl::StatusOr<int64_t> IntParam(const YAML::Node& n, const std::string& key, int64_t min) {
  DE_ASSIGN_OR_RETURN(std::string s, Scalar(n, key));
  int64_t v;
  if (!engine::ParseCsvInt64(s, &v) || v < min) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": expected an integer >= ", min,
                                                   ", got '", s, "'"));
  }
  return v;
}

absl::StatusOr<char> CharParam(const YAML::Node& n, const std::string& key, bool allow_none) {
  std::string s = n.IsNull() ? "" : (n.IsScalar() ? n.Scalar() : "?invalid?");
  if (s == "\\t" || s == "\t" || s == "tab") return '\t';
  if (allow_none && (s.empty() || s == "none")) return '\0';
  if (s.size() != 1 || s[0] == '\n' || s[0] == '\r') {
    return absl::InvalidArgumentError(
        absl::StrCat(key, ": expected one character (or \\t)", allow_none ? " or none" : "",
                     ", got '", s, "'"));
  }
  return s[0];
}

absl::Status ParsePartitionBy(const YAML::Node& n, std::vector<PartitionSpec>* out) {
  auto one = [&](const YAML::Node& e) -> absl::Status {
    PartitionSpec spec;
    if (e.IsScalar()) {
      spec.column = e.Scalar();
      spec.name = spec.column;
    } else if (e.IsMap()) {
      for (const auto& kv : e) {
        std::string k = kv.first.as<std::string>();
        if (k != "column" && k != "granularity" && k != "as") {
          return absl::InvalidArgumentError(absl::StrCat(
              "partition_by: unknown key '", k, "' (expected column, granularity, as)"));
        }
      }
      if (!e["column"] || !e["column"].IsScalar()) {
        return absl::InvalidArgumentError("partition_by: an entry needs `column:`");
      }
      spec.column = e["column"].Scalar();
      std::string g = e["granularity"] ? e["granularity"].as<std::string>() : "";
      if (g == "day") spec.bucket = PartitionSpec::Bucket::kDay;
      else if (g == "month") spec.bucket = PartitionSpec::Bucket::kMonth;
      else if (!g.empty() && g != "value") {
        return absl::InvalidArgumentError(absl::StrCat(
            "partition_by: granularity '", g, "' is not one of day, month"));
      }
      spec.name = spec.bucket == PartitionSpec::Bucket::kNone ? spec.column
                  : absl::StrCat(spec.column, "_", g);
      if (e["as"]) spec.name = e["as"].as<std::string>();
    } else {
      return absl::InvalidArgumentError(
          "partition_by: expected column names or {column: ts, granularity: day|month}");
    }
    if (spec.column.empty() || spec.name.empty() || spec.name.find('/') != std::string::npos ||
        spec.name.find('=') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("partition_by: bad name '", spec.name, "'"));
    }
    out->push_back(spec);
    return absl::OkStatus();
  };
  if (n.IsSequence()) {
    for (const auto& e : n) DE_RETURN_IF_ERROR(one(e));
  } else {
    DE_RETURN_IF_ERROR(one(n));
  }
  std::set<std::string> names;
  for (const auto& p : *out) {
    if (!names.insert(p.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("partition_by: '", p.name, "' twice"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CsvToParquetParams> ParseParamsImpl(const YAML::Node& with, const TaskContext& ctx) {
  static const std::set<std::string> kKnown = {
      "input", "output", "compression", "compression_level", "target_file_size", "row_group_size",
      "partition_by", "schema", "delimiter", "header", "quote", "null_values", "on_error",
      "threads", "sample_rows", "max_open_files", "fsync"};
  CsvToParquetParams p;
  if (!with.IsDefined() || with.IsNull() || !with.IsMap()) {
    return absl::InvalidArgumentError("csv_to_parquet: parameters must be a map with input and output");
  }
  for (const auto& kv : with) {
    std::string k = kv.first.as<std::string>();
    if (!kKnown.count(k)) {
      return absl::InvalidArgumentError(absl::StrCat("csv_to_parquet: unknown parameter '", k,
                                                     "' (known: ", absl::StrJoin(kKnown, ", "), ")"));
    }
  }
  if (!with["input"]) return absl::InvalidArgumentError("csv_to_parquet: `input` is required");
  if (!with["output"]) return absl::InvalidArgumentError("csv_to_parquet: `output` is required");
  DE_ASSIGN_OR_RETURN(p.input, Scalar(with["input"], "input"));
  DE_ASSIGN_OR_RETURN(std::string out, Scalar(with["output"], "output"));
  DE_ASSIGN_OR_RETURN(p.output, engine::ResolveOutputFolder(out, ctx.data_root));
  if (with["compression"]) {
    DE_ASSIGN_OR_RETURN(std::string c, Scalar(with["compression"], "compression"));
    if (!engine::ParseCodec(c, &p.codec)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "compression: '", c, "' is not one of snappy, zstd, gzip, none"));
    }
  }
  if (with["compression_level"]) {
    DE_ASSIGN_OR_RETURN(int64_t l, IntParam(with["compression_level"], "compression_level", 0));
    p.compression_level = static_cast<int>(std::min<int64_t>(l, 22));
  }
  if (with["target_file_size"]) {
    DE_ASSIGN_OR_RETURN(std::string s, Scalar(with["target_file_size"], "target_file_size"));
    auto v = ParseByteSize(s);
    if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("target_file_size: ", v.status().message()));
    p.target_file_size = std::max<int64_t>(*v, 1);
  }
  if (with["row_group_size"]) {
    DE_ASSIGN_OR_RETURN(p.row_group_rows, IntParam(with["row_group_size"], "row_group_size", 1));
  }
  if (with["partition_by"]) DE_RETURN_IF_ERROR(ParsePartitionBy(with["partition_by"], &p.partition_by));
  if (with["schema"]) {
    const YAML::Node& s = with["schema"];
    if (!s.IsMap()) return absl::InvalidArgumentError("schema: expected a map {column: type}");
    for (const auto& kv : s) {
      std::string name = kv.first.as<std::string>();
      std::string tn = kv.second.IsScalar() ? kv.second.Scalar() : "";
      Type t;
      if (!engine::ParseTypeName(tn, &t)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "schema: column '", name, "': unknown type '", tn,
            "' (bool, int32, int64, double, date, timestamp, string)"));
      }
      p.csv.schema.emplace_back(name, t);
    }
  }
  if (with["delimiter"]) {
    DE_ASSIGN_OR_RETURN(p.csv.delimiter, CharParam(with["delimiter"], "delimiter", false));
  }
  if (with["quote"]) {
    DE_ASSIGN_OR_RETURN(p.csv.quote, CharParam(with["quote"], "quote", true));
  }
  if (p.csv.delimiter != 0 && p.csv.delimiter == p.csv.quote) {
    return absl::InvalidArgumentError("delimiter and quote must differ");
  }
  if (with["header"]) {
    DE_ASSIGN_OR_RETURN(std::string h, Scalar(with["header"], "header"));
    std::string l = absl::AsciiStrToLower(h);
    if (l == "true" || l == "yes") p.csv.header = true;
    else if (l == "false" || l == "no") p.csv.header = false;
    else if (l != "auto") {
      return absl::InvalidArgumentError(absl::StrCat("header: expected true, false or auto, got '", h, "'"));
    }
  }
  if (with["null_values"]) {
    const YAML::Node& n = with["null_values"];
    if (n.IsSequence()) {
      for (const auto& e : n) {
        if (!e.IsScalar()) return absl::InvalidArgumentError("null_values: expected strings");
        p.csv.null_values.push_back(e.Scalar());
      }
    } else if (n.IsScalar()) {
      p.csv.null_values.push_back(n.Scalar());
    } else if (!n.IsNull()) {
      return absl::InvalidArgumentError("null_values: expected a list of strings");
    }
  }
  if (with["on_error"]) {
    DE_ASSIGN_OR_RETURN(std::string e, Scalar(with["on_error"], "on_error"));
    if (!engine::ParseOnError(e, &p.csv.on_error)) {
      return absl::InvalidArgumentError(absl::StrCat("on_error: '", e, "' is not one of reject, null, fail"));
    }
  }
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  p.threads = static_cast<int>(std::min(2u, hw));
  if (with["threads"]) {
    DE_ASSIGN_OR_RETURN(int64_t t, IntParam(with["threads"], "threads", 0));
    p.threads = t == 0 ? static_cast<int>(hw) : static_cast<int>(std::min<int64_t>(t, 64));
  }
  if (with["sample_rows"]) {
    DE_ASSIGN_OR_RETURN(p.csv.sample_rows, IntParam(with["sample_rows"], "sample_rows", 1));
  }
  if (with["max_open_files"]) {
    DE_ASSIGN_OR_RETURN(int64_t m, IntParam(with["max_open_files"], "max_open_files", 1));
    p.max_open_files = static_cast<int>(std::min<int64_t>(m, 100000));
  }
  if (with["fsync"]) {
    DE_ASSIGN_OR_RETURN(std::string f, Scalar(with["fsync"], "fsync"));
    p.fsync = f == "true" || f == "yes";
  }
  DE_ASSIGN_OR_RETURN(p.input_files, engine::ListInputFiles(p.input, ctx.data_root, engine::LooksLikeCsvName, "CSV files"));
  DE_RETURN_IF_ERROR(engine::CheckOutputApart(p.output, p.input_files));
  return p;
}

// ---------------------------------------------------------------------------------------------
// Output.

using FileInfo = engine::OutputFile;

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
  absl::Status error;              // first error

  void Fail(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) error = std::move(s);
    stop = true;
  }
  bool cancelled() const {
    return stop.load(std::memory_order_relaxed) ||
           (ctx->cancelled && ctx->cancelled->load(std::memory_order_relaxed));
  }
};

// DE_READ_AHEAD=0 turns the inflate thread off (to measure what it gains).
bool ReadAheadEnabled() {
  static const bool enabled = [] {
    const char* e = std::getenv("DE_READ_AHEAD");
    return e == nullptr || std::string_view(e) != "0";
  }();
  return enabled;
}

// Reads the input files one after another and cuts them into row-aligned chunks.
class ChunkSource {
 public:
  ChunkSource(const std::vector<std::string>& files, const engine::CsvReadOptions& o, char quote)
      : files_(files), quote_(quote), chunk_bytes_(o.chunk_bytes), max_row_(o.max_row_bytes) {}

  absl::StatusOr<bool> Next(CsvChunk* c) {
    while (true) {
      if (!splitter_) {
        if (file_ >= files_.size()) return false;
        DE_ASSIGN_OR_RETURN(stream_, engine::OpenInputStream(files_[file_]));
        // Inflate on a thread of its own, a few MB ahead of the splitter and the lanes.
        if (stream_->compression() != engine::InputCompression::kNone && ReadAheadEnabled()) {
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
  int64_t csv_bytes() const { return csv_bytes_; }

 private:
  const std::vector<std::string>& files_;
  char quote_;
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
  Lane(int id, Shared* shared) : id_(id), sh_(shared), parser_(*shared->format) {
    engine::InitBatch(shared->format->schema, &batch_);
    engine::InitBatch(shared->out_schema, &out_);
  }

  absl::Status Process(const CsvChunk& chunk) {
    engine::ClearBatch(&batch_);
    rejects_.clear();
    const std::string& source = sh_->params->input_files[chunk.file_index];
    DE_RETURN_IF_ERROR(parser_.Parse(chunk.data.get(), chunk.size, chunk.first_line,
                                     sh_->format->header && chunk.file_start, source, &batch_,
                                     &stats_, &rejects_));
    if (!rejects_.empty()) DE_RETURN_IF_ERROR(sh_->rejects->Write(source, rejects_));
    if (batch_.num_rows == 0) return absl::OkStatus();
    if (sh_->part_cols.empty()) {
      if (sh_->out_cols.size() == batch_.columns.size()) return WriteTo("", batch_);
      // Project by swapping columns out and back (no copies).
      for (size_t i = 0; i < sh_->out_cols.size(); ++i) {
        std::swap(out_.columns[i], batch_.columns[sh_->out_cols[i]]);
      }
      out_.num_rows = batch_.num_rows;
      absl::Status st = WriteTo("", out_);
      for (size_t i = 0; i < sh_->out_cols.size(); ++i) {
        std::swap(out_.columns[i], batch_.columns[sh_->out_cols[i]]);
      }
      return st;
    }
    return WritePartitioned();
  }

  // Closes every open file.
  absl::Status Finish() {
    while (!open_.empty()) DE_RETURN_IF_ERROR(CloseFile(open_.begin()->first));
    return absl::OkStatus();
  }

  const engine::CsvParseStats& stats() const { return stats_; }
  std::vector<FileInfo>& files() { return files_; }

 private:
  struct OpenFile {
    std::unique_ptr<engine::ParquetWriter> writer;
    std::string rel_path;
    uint64_t last_use = 0;
  };

  absl::Status WritePartitioned() {
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
    for (auto& [dir, rows] : groups_) {
      if (rows.empty()) continue;
      Gather(rows);
      DE_RETURN_IF_ERROR(WriteTo(dir, out_));
    }
    return absl::OkStatus();
  }

  void AppendPartitionValue(const PartitionSpec& spec, const Column& c, size_t r, std::string* out) {
    if (!c.valid[r]) {
      out->append(kDefaultPartition);
      return;
    }
    std::string v;
    switch (c.type) {
      case Type::kString:
        if (c.str(r).empty()) {
          out->append(kDefaultPartition);
          return;
        }
        out->append(EscapePartitionValue(c.str(r)));
        return;
      case Type::kBool: v = c.u8[r] ? "true" : "false"; break;
      case Type::kInt32: v = std::to_string(c.i32[r]); break;
      case Type::kInt64: v = std::to_string(c.i64[r]); break;
      case Type::kDecimal: v = engine::FormatDecimal(c.i64[r], c.scale); break;
      case Type::kDouble: {
        char buf[64];
        auto res = std::to_chars(buf, buf + sizeof(buf), c.f64[r]);
        v.assign(buf, res.ptr);
        break;
      }
      case Type::kDate:
      case Type::kTimestamp: {
        int64_t day = c.type == Type::kDate
                          ? c.i32[r]
                          : static_cast<int64_t>(std::floor(static_cast<double>(c.i64[r]) / 86400e6));
        if (spec.bucket == PartitionSpec::Bucket::kNone && c.type == Type::kTimestamp) {
          v = engine::FormatTimestamp(c.i64[r]);
          break;
        }
        if (day != cached_day_) {
          cached_day_ = day;
          cached_day_str_ = engine::FormatDate(static_cast<int32_t>(day));
        }
        v = spec.bucket == PartitionSpec::Bucket::kMonth ? cached_day_str_.substr(0, 7)
                                                          : cached_day_str_;
        break;
      }
    }
    out->append(EscapePartitionValue(v));
  }

  // Copies rows `rows` of the output columns of batch_ into out_.
  void Gather(const std::vector<uint32_t>& rows) {
    engine::ClearBatch(&out_);
    for (size_t i = 0; i < sh_->out_cols.size(); ++i) {
      const Column& src = batch_.columns[sh_->out_cols[i]];
      Column& dst = out_.columns[i];
      dst.valid.reserve(rows.size());
      for (uint32_t r : rows) dst.valid.push_back(src.valid[r]);
      switch (src.type) {
        case Type::kBool:
          for (uint32_t r : rows) dst.u8.push_back(src.u8[r]);
          break;
        case Type::kInt32:
        case Type::kDate:
          for (uint32_t r : rows) dst.i32.push_back(src.i32[r]);
          break;
        case Type::kInt64:
        case Type::kDecimal:
        case Type::kTimestamp:
          for (uint32_t r : rows) dst.i64.push_back(src.i64[r]);
          break;
        case Type::kDouble:
          for (uint32_t r : rows) dst.f64.push_back(src.f64[r]);
          break;
        case Type::kString:
          for (uint32_t r : rows) {
            std::string_view s = src.str(r);
            dst.bytes.append(s.data(), s.size());
            dst.offsets.push_back(static_cast<uint32_t>(dst.bytes.size()));
          }
          break;
      }
    }
    out_.num_rows = rows.size();
  }

  absl::Status WriteTo(const std::string& dir, const Batch& batch) {
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

  absl::Status CloseFile(const std::string& dir) {
    auto it = open_.find(dir);
    OpenFile f = std::move(it->second);
    open_.erase(it);
    DE_RETURN_IF_ERROR(f.writer->Close());
    FileInfo info;
    info.rel_path = f.rel_path;
    info.rows = f.writer->rows_written();
    std::error_code ec;
    info.bytes = static_cast<int64_t>(fs::file_size(fs::path(sh_->tmp_dir) / f.rel_path, ec));
    files_.push_back(std::move(info));
    return absl::OkStatus();
  }

  const int id_;
  Shared* sh_;
  engine::CsvChunkParser parser_;
  Batch batch_;
  Batch out_;
  engine::CsvParseStats stats_;
  std::vector<engine::CsvReject> rejects_;
  std::map<std::string, OpenFile> open_;
  std::map<std::string, int> seq_;
  std::unordered_map<std::string, std::vector<uint32_t>> groups_;
  std::vector<FileInfo> files_;
  uint64_t clock_ = 0;
  int64_t cached_day_ = INT64_MIN;
  std::string cached_day_str_;
};

absl::StatusOr<TaskOutcome> Run(const CsvToParquetParams& params, const TaskContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path out(params.output);
  std::error_code ec;
  // The output folder first: this also restores an output a crash left renamed aside, even when
  // this run then fails.
  DE_ASSIGN_OR_RETURN(auto commit, engine::OutputCommit::Begin(params.output));
  // 1. Sniff the format from the first non-empty file.
  engine::CsvFormat format;
  bool sniffed = false;
  for (const auto& f : params.input_files) {
    DE_ASSIGN_OR_RETURN(auto in, engine::OpenInputStream(f));
    bool whole = false;
    DE_ASSIGN_OR_RETURN(std::string sample,
                        engine::ReadCsvSample(in.get(), params.csv.sample_bytes, &whole));
    if (sample.empty() && whole) continue;
    DE_ASSIGN_OR_RETURN(format, engine::SniffCsv(sample, whole, params.csv, f));
    sniffed = true;
    break;
  }
  if (!sniffed) format.schema.clear();
  for (auto& field : format.schema) field.nullable = true;

  Shared sh;
  sh.params = &params;
  sh.format = &format;
  sh.ctx = &ctx;
  // 2. Partition columns and the file schema.
  std::set<int> plain_part;
  for (const PartitionSpec& spec : params.partition_by) {
    int idx = -1;
    for (size_t c = 0; c < format.schema.size(); ++c) {
      if (format.schema[c].name == spec.column) idx = static_cast<int>(c);
    }
    if (idx < 0 && !format.schema.empty()) {
      std::vector<std::string> names;
      for (const auto& f : format.schema) names.push_back(f.name);
      return absl::InvalidArgumentError(absl::StrCat("partition_by: no column '", spec.column,
                                                     "' (columns: ", absl::StrJoin(names, ", "), ")"));
    }
    if (idx >= 0 && spec.bucket != PartitionSpec::Bucket::kNone &&
        format.schema[idx].type != Type::kDate && format.schema[idx].type != Type::kTimestamp) {
      return absl::InvalidArgumentError(absl::StrCat(
          "partition_by: column '", spec.column, "' is ", engine::TypeName(format.schema[idx].type),
          "; a day/month bucket needs a date or timestamp column (set schema: {", spec.column,
          ": timestamp})"));
    }
    sh.part_cols.push_back(idx);
    if (spec.bucket == PartitionSpec::Bucket::kNone) plain_part.insert(idx);
  }
  for (size_t c = 0; c < format.schema.size(); ++c) {
    if (plain_part.count(static_cast<int>(c))) continue;
    sh.out_cols.push_back(static_cast<int>(c));
    sh.out_schema.push_back(format.schema[c]);
  }
  if (!format.schema.empty() && sh.out_schema.empty()) {
    return absl::InvalidArgumentError("partition_by: every column is a partition column; nothing "
                                      "is left to write into the files");
  }
  std::vector<std::string> schema_desc;
  for (const auto& f : format.schema) schema_desc.push_back(absl::StrCat(f.name, " ", engine::TypeName(f.type)));
  ctx.log(absl::StrCat("csv_to_parquet: ", params.input_files.size(), " input file(s); delimiter '",
                       format.delimiter == '\t' ? std::string("\\t") : std::string(1, format.delimiter),
                       "', header ", format.header ? "yes" : "no", "; schema: ",
                       absl::StrJoin(schema_desc, ", ")));

  // 3. Temporary folder next to the output (made first thing, see above).
  const fs::path tmp = commit->tmp_dir();
  sh.tmp_dir = tmp.string();
  engine::RejectsWriter rejects((tmp / "_rejects.csv").string());
  sh.rejects = &rejects;

  // 4. Writers: memory stays bounded by row-group buffers per open file.
  sh.lanes = std::max(1, params.threads);
  sh.writer_options.codec = params.codec;
  sh.writer_options.compression_level = params.compression_level;
  sh.writer_options.row_group_rows = params.row_group_rows;
  if (params.partition_by.empty()) {
    sh.max_open_per_lane = 1;
    sh.writer_options.row_group_bytes = std::clamp<int64_t>((192ll << 20) / sh.lanes, 16ll << 20, 128ll << 20);
  } else {
    sh.max_open_per_lane = std::max(1, params.max_open_files / sh.lanes);
    int64_t per = (192ll << 20) / (sh.max_open_per_lane * sh.lanes);
    sh.writer_options.row_group_bytes = std::clamp<int64_t>(per, 512ll << 10, 64ll << 20);
    sh.writer_options.page_bytes = std::min<int64_t>(sh.writer_options.page_bytes,
                                                     std::max<int64_t>(64 << 10, per / 4));
  }
  sh.writer_options.row_group_bytes = std::min(sh.writer_options.row_group_bytes, params.target_file_size);
  sh.writer_options.key_value_metadata["de.task"] = "csv_to_parquet";

  // 5. Pipeline: reader -> lanes (parse + encode), chunk i to lane i % lanes (deterministic).
  std::vector<std::unique_ptr<Lane>> lanes;
  for (int i = 0; i < sh.lanes; ++i) lanes.push_back(std::make_unique<Lane>(i, &sh));
  // Small target files need small chunks: files rotate between batches.
  engine::CsvReadOptions read_options = params.csv;
  read_options.chunk_bytes = static_cast<size_t>(
      std::clamp<int64_t>(params.target_file_size / 4, 64 << 10, read_options.chunk_bytes));
  ChunkSource source(params.input_files, read_options, format.quote);
  if (!format.schema.empty()) {
    if (sh.lanes == 1) {
      CsvChunk chunk;
      while (!sh.cancelled()) {
        auto more = source.Next(&chunk);
        if (!more.ok()) {
          sh.Fail(more.status());
          break;
        }
        if (!*more) break;
        absl::Status st = lanes[0]->Process(chunk);
        if (!st.ok()) sh.Fail(st);
      }
      if (!sh.stop) {
        absl::Status st = lanes[0]->Finish();
        if (!st.ok()) sh.Fail(st);
      }
    } else {
      using ChunkPtr = std::unique_ptr<CsvChunk>;
      engine::BoundedQueue<ChunkPtr> free_chunks(1024);
      std::vector<std::unique_ptr<engine::BoundedQueue<ChunkPtr>>> queues;
      for (int i = 0; i < sh.lanes; ++i) queues.push_back(std::make_unique<engine::BoundedQueue<ChunkPtr>>(2));
      std::vector<std::thread> threads;
      for (int i = 0; i < sh.lanes; ++i) {
        threads.emplace_back([&, i] {
          while (auto c = queues[i]->Pop()) {
            if (sh.cancelled()) break;
            absl::Status st = lanes[i]->Process(**c);
            if (!st.ok()) {
              sh.Fail(st);
              break;
            }
            free_chunks.Push(std::move(*c));
          }
          if (!sh.stop) {
            absl::Status st = lanes[i]->Finish();
            if (!st.ok()) sh.Fail(st);
          }
          if (sh.stop) {
            for (auto& q : queues) q->Close();
          }
        });
      }
      while (!sh.cancelled()) {
        ChunkPtr c;
        if (auto reuse = free_chunks.TryPop()) c = std::move(*reuse);
        else c = std::make_unique<CsvChunk>();
        auto more = source.Next(c.get());
        if (!more.ok()) {
          sh.Fail(more.status());
          break;
        }
        if (!*more) break;
        int lane = static_cast<int>(c->seq % sh.lanes);
        if (!queues[lane]->Push(std::move(c))) break;
      }
      for (auto& q : queues) q->Close();
      for (auto& t : threads) t.join();
    }
  }
  if (ctx.cancelled && ctx.cancelled->load()) sh.Fail(absl::CancelledError("csv_to_parquet: cancelled"));
  {
    std::lock_guard<std::mutex> lock(sh.mu);
    if (!sh.error.ok()) return sh.error;
  }
  DE_RETURN_IF_ERROR(rejects.Close());

  // 6. Collect results; an input with a schema but no rows still gets one (empty) file.
  std::vector<FileInfo> files;
  engine::CsvParseStats stats;
  for (auto& lane : lanes) {
    for (auto& f : lane->files()) files.push_back(std::move(f));
    stats.rows_in += lane->stats().rows_in;
    stats.rows_out += lane->stats().rows_out;
    stats.rows_rejected += lane->stats().rows_rejected;
    stats.values_nulled += lane->stats().values_nulled;
  }
  if (files.empty() && !sh.out_schema.empty() && params.partition_by.empty()) {
    std::string rel = "part-00000.parquet";
    DE_ASSIGN_OR_RETURN(auto w, engine::ParquetWriter::Open((tmp / rel).string(), sh.out_schema,
                                                          sh.writer_options));
    DE_RETURN_IF_ERROR(w->Close());
    files.push_back({rel, 0, static_cast<int64_t>(fs::file_size(tmp / rel, ec))});
  }
  std::sort(files.begin(), files.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.rel_path < b.rel_path; });
  int64_t bytes = 0;
  for (const auto& f : files) bytes += f.bytes;
  const bool have_rejects = fs::exists(tmp / "_rejects.csv", ec);

  // 7. Manifest, then swap into place.
  engine::Manifest manifest;
  manifest.codec = engine::CodecName(params.codec);
  manifest.rows = stats.rows_out;
  manifest.files = files;
  manifest.schema = sh.out_schema;
  for (const auto& p : params.partition_by) manifest.partition_by.push_back(p.name);
  manifest.rows_in = stats.rows_in;
  manifest.rows_rejected = stats.rows_rejected;
  manifest.has_rejects = have_rejects;
  manifest.created_by = "de csv_to_parquet";
  DE_RETURN_IF_ERROR(commit->Commit(manifest, params.fsync));

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int64_t input_bytes = 0;
  for (const auto& f : params.input_files) input_bytes += static_cast<int64_t>(fs::file_size(f, ec));
  TaskOutcome outcome;
  outcome.counters = {{"rows_in", stats.rows_in},
                      {"rows_out", stats.rows_out},
                      {"rows_rejected", stats.rows_rejected},
                      {"values_nulled", stats.values_nulled},
                      {"files", static_cast<int64_t>(files.size())},
                      {"bytes", bytes},
                      {"input_files", static_cast<int64_t>(params.input_files.size())},
                      {"input_bytes", input_bytes},
                      {"csv_bytes", source.csv_bytes()}};
  outcome.outputs.push_back(out.string());
  outcome.summary_json = absl::StrCat(
      "{\"output\":", engine::JsonString(out.string()), ",\"rows_in\":", stats.rows_in,
      ",\"rows_out\":", stats.rows_out, ",\"rows_rejected\":", stats.rows_rejected,
      ",\"values_nulled\":", stats.values_nulled, ",\"files\":", files.size(), ",\"bytes\":", bytes,
      ",\"input_bytes\":", input_bytes, ",\"csv_bytes\":", source.csv_bytes(),
      ",\"seconds\":", absl::StrFormat("%.3f", seconds), ",\"codec\":\"",
      engine::CodecName(params.codec), "\",\"threads\":", sh.lanes,
      ",\"rejects_file\":", have_rejects ? engine::JsonString((out / "_rejects.csv").string()) : "null",
      ",\"delimiter\":", engine::JsonString(std::string(1, format.delimiter)),
      ",\"header\":", format.header ? "true" : "false", ",\"schema\":", engine::SchemaJson(format.schema),
      "}");
  ctx.log(absl::StrCat("csv_to_parquet: ", stats.rows_in, " rows in, ", stats.rows_out, " out, ",
                       stats.rows_rejected, " rejected; ", files.size(), " file(s), ", bytes,
                       " bytes in ", absl::StrFormat("%.2f", seconds), " s"));
  return outcome;
}

}  // namespace

absl::StatusOr<int64_t> ParseByteSize(const std::string& s) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s));
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  double num;
  auto r = std::from_chars(t.data(), t.data() + i, num);
  if (i == 0 || r.ec != std::errc() || r.ptr != t.data() + i) {
    return absl::InvalidArgumentError(absl::StrCat("'", s, "' is not a size like 192MB"));
  }
  std::string unit(absl::StripAsciiWhitespace(t.substr(i)));
  double mult;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib") mult = 1024.0 * 1024 * 1024 * 1024;
  else return absl::InvalidArgumentError(absl::StrCat("'", s, "': unknown unit '", unit, "'"));
  double v = num * mult;
  if (!(v >= 1) || v > 9e18) return absl::InvalidArgumentError(absl::StrCat("'", s, "' is out of range"));
  return static_cast<int64_t>(v);
}

absl::StatusOr<CsvToParquetParams> ParseCsvToParquetParams(const YAML::Node& with,
                                                           const TaskContext& ctx) {
  return ParseGuarded("csv_to_parquet", [&] { return ParseParamsImpl(with, ctx); });
}

absl::StatusOr<TaskOutcome> RunCsvToParquet(const YAML::Node& with, const TaskContext& ctx) {
  DE_ASSIGN_OR_RETURN(CsvToParquetParams params, ParseCsvToParquetParams(with, ctx));
  return RunGuarded("csv_to_parquet", [&] { return Run(params, ctx); });
}

}  // namespace de::tasks
