#include "engine/io/source.h"

#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dag/suggest.h"
#include "common/status.h"
#include "engine/csv/csv_values.h"
#include "engine/io/input_stream.h"
#include "engine/parquet/parquet_reader.h"
#include "engine/parquet/parquet_stream.h"

namespace de::engine {

namespace fs = std::filesystem;

struct MorselScratch {
  CsvChunk chunk;
  std::unique_ptr<CsvChunkParser> parser;
  Batch full;                                   // CSV: every column of the file
  std::shared_ptr<const ParquetReader> reader;  // Parquet: keeps the file open while decoding
  Batch row_group;                              // Parquet: the file columns (buffers reused)
  // Parquet: the row group being handed out in slices (kParquetSliceRows) by this thread.
  RowGroupStream stream;
  std::shared_ptr<const ParquetReader> stream_reader;  // set while `stream` has rows left
  int stream_file = 0;
  int64_t stream_first_row = 0;                 // the row group's first row in its file
};

// Rows per Parquet morsel: a row group is decoded this many rows at a time (by the thread that
// claimed it), so that a batch stays in the CPU cache and its buffers are reused.
constexpr size_t kParquetSliceRows = size_t{1} << 16;

Morsel::Morsel() = default;
Morsel::~Morsel() = default;
Morsel::Morsel(Morsel&&) noexcept = default;
Morsel& Morsel::operator=(Morsel&&) noexcept = default;

namespace {

// Partition values are typed as DuckDB's hive_partitioning does: all integers -> int64, all
// dates -> date, else string. "" (the default partition) is null and fits every type.
Type InferPartitionType(const ResolvedDataset& ds, size_t col) {
  bool all_int = true, all_date = true, any = false;
  for (const auto& f : ds.files) {
    const std::string& v = f.partition_values[col];
    if (v.empty()) continue;
    any = true;
    int64_t i;
    int32_t d;
    if (!ParseCsvInt64(v, &i)) all_int = false;
    if (v.size() != 10 || !ParseCsvDate(v, &d)) all_date = false;
  }
  if (!any) return Type::kString;
  if (all_int) return Type::kInt64;
  if (all_date) return Type::kDate;
  return Type::kString;
}

void AppendConstant(Type type, const std::string& value, size_t n, Column* c) {
  c->type = type;
  c->Clear();
  const bool null = value.empty();
  c->valid.assign(n, null ? 0 : 1);
  switch (type) {
    case Type::kInt64: {
      int64_t v = 0;
      if (!null) ParseCsvInt64(value, &v);
      c->i64.assign(n, v);
      break;
    }
    case Type::kDate: {
      int32_t v = 0;
      if (!null) ParseCsvDate(value, &v);
      c->i32.assign(n, v);
      break;
    }
    default: {
      c->offsets.resize(n + 1);
      c->bytes.reserve(value.size() * n);
      for (size_t i = 0; i < n; ++i) {
        if (!null) c->bytes.append(value);
        c->offsets[i + 1] = static_cast<uint32_t>(c->bytes.size());
      }
    }
  }
}

ColumnRange RangeFromStats(const ColumnChunkStats& s, Type t) {
  ColumnRange r;
  r.may_have_nulls = !s.null_count.has_value() || *s.null_count > 0;
  r.has_min_max = s.has_min_max;
  r.min_int = s.min_int;
  r.max_int = s.max_int;
  r.min_double = s.min_double;
  r.max_double = s.max_double;
  r.min_string = s.min_string;
  r.max_string = s.max_string;
  (void)t;
  return r;
}

ColumnRange RangeOfConstant(Type t, const std::string& v) {
  ColumnRange r;
  r.may_have_nulls = v.empty();
  if (v.empty()) return r;
  r.has_min_max = true;
  if (t == Type::kInt64) {
    ParseCsvInt64(v, &r.min_int);
  } else if (t == Type::kDate) {
    int32_t d = 0;
    ParseCsvDate(v, &d);
    r.min_int = d;
  } else {
    r.min_string = v;
  }
  r.max_int = r.min_int;
  r.max_string = r.min_string;
  return r;
}

class TableSourceImpl : public TableSource {
 public:
  TableSourceImpl(ResolvedDataset ds, SourceOptions opt) : ds_(std::move(ds)), opt_(std::move(opt)) {}

  absl::Status Init() {
    if (ds_.files.empty()) return absl::NotFoundError("input: no files");
    std::error_code ec;
    for (const auto& f : ds_.files) input_bytes_ += static_cast<int64_t>(fs::file_size(f.path, ec));
    Schema file_schema;
    if (ds_.format == FileFormat::kCsv) {
      DE_RETURN_IF_ERROR(SniffCsvFormat());
      file_schema = format_.schema;
    } else {
      DE_ASSIGN_OR_RETURN(auto first, ParquetReader::Open(ds_.files[0].path));
      file_schema = first->schema();
      readers_.resize(ds_.files.size());
      readers_[0] = std::move(first);
    }
    for (size_t p = 0; p < ds_.partition_columns.size(); ++p) {
      part_types_.push_back(InferPartitionType(ds_, p));
    }
    // The full schema: file columns, then partition columns not also in the files.
    Schema full = file_schema;
    std::vector<int> part_of_full(file_schema.size(), -1);
    for (size_t p = 0; p < ds_.partition_columns.size(); ++p) {
      bool in_file = false;
      for (const auto& f : file_schema) in_file |= f.name == ds_.partition_columns[p];
      if (in_file) continue;
      full.push_back(Field{ds_.partition_columns[p], part_types_[p], true});
      part_of_full.push_back(static_cast<int>(p));
    }
    std::vector<std::string> names;
    for (const auto& f : full) names.push_back(f.name);
    std::vector<int> pick;
    if (opt_.columns.empty()) {
      for (size_t i = 0; i < full.size(); ++i) pick.push_back(static_cast<int>(i));
    } else {
      for (const auto& want : opt_.columns) {
        auto it = std::find(names.begin(), names.end(), want);
        if (it == names.end()) {
          return absl::InvalidArgumentError(absl::StrCat("input has no column '", want, "'",
                                                         dag::DidYouMean(want, names),
                                                         " (columns: ", absl::StrJoin(names, ", "), ")"));
        }
        pick.push_back(static_cast<int>(it - names.begin()));
      }
    }
    for (int i : pick) {
      schema_.push_back(full[i]);
      schema_.back().nullable = true;
      if (part_of_full[i] >= 0) {
        out_.push_back({-1, part_of_full[i]});
      } else {
        out_.push_back({i, -1});
        file_cols_.push_back(i);
      }
    }
    file_schema_ = std::move(file_schema);
    return absl::OkStatus();
  }

  const Schema& schema() const override { return schema_; }
  const ResolvedDataset& dataset() const override { return ds_; }
  void SetPrune(const BoundExpr* prune) override { prune_ = prune; }
  int64_t row_groups_skipped() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return skipped_;
  }
  int64_t input_bytes() const override { return input_bytes_; }

  absl::StatusOr<bool> Next(Morsel* m) override {
    if (!m->scratch) m->scratch = std::make_unique<MorselScratch>();
    m->rejects.clear();
    m->stats = CsvParseStats();
    return ds_.format == FileFormat::kCsv ? NextCsv(m) : NextParquet(m);
  }

 private:
  struct OutCol {
    int file_col;   // index into the file schema, or -1
    int part;       // index into partition_columns, or -1
  };

  absl::Status SniffCsvFormat() {
    for (const auto& f : ds_.files) {
      DE_ASSIGN_OR_RETURN(auto in, OpenInputStream(f.path));
      bool whole = false;
      DE_ASSIGN_OR_RETURN(std::string sample, ReadCsvSample(in.get(), opt_.csv.sample_bytes, &whole));
      if (sample.empty() && whole) continue;
      DE_ASSIGN_OR_RETURN(format_, SniffCsv(sample, whole, opt_.csv, f.path));
      for (auto& field : format_.schema) field.nullable = true;
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat("input: every file is empty (",
                                                   ds_.files[0].path, ", ...)"));
  }

  // Moves the picked columns of `full` (a whole-file-schema batch) into m->batch, then appends
  // partition constants.
  void Project(Batch* full, int file_index, Morsel* m) {
    Batch& b = m->batch;
    b.columns.resize(out_.size());
    b.num_rows = full->num_rows;
    for (size_t i = 0; i < out_.size(); ++i) {
      if (out_[i].file_col >= 0) {
        std::swap(b.columns[i], full->columns[out_[i].file_col]);
      } else {
        AppendConstant(part_types_[out_[i].part],
                       ds_.files[file_index].partition_values[out_[i].part], full->num_rows,
                       &b.columns[i]);
      }
    }
  }

  absl::StatusOr<bool> NextCsv(Morsel* m) {
    MorselScratch& s = *m->scratch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_.ok()) return error_;
      while (true) {
        if (!splitter_) {
          if (file_ >= ds_.files.size()) return false;
          auto st = OpenInputStream(ds_.files[file_].path);
          if (!st.ok()) return error_ = st.status();
          stream_ = std::move(*st);
          splitter_ = std::make_unique<CsvSplitter>(stream_.get(), format_.quote,
                                                    opt_.csv.chunk_bytes, opt_.csv.max_row_bytes);
        }
        auto more = splitter_->Next(&s.chunk);
        if (!more.ok()) return error_ = more.status();
        if (*more) {
          s.chunk.file_index = static_cast<int>(file_);
          s.chunk.seq = seq_++;
          break;
        }
        splitter_.reset();
        stream_.reset();
        ++file_;
      }
    }
    if (!s.parser) {
      // Projection pushdown: the parser converts only the columns this source hands out.
      std::vector<bool> needed(format_.schema.size(), false);
      for (int c : file_cols_) needed[c] = true;
      s.parser = std::make_unique<CsvChunkParser>(format_, std::move(needed));
    }
    if (s.full.columns.size() != format_.schema.size()) {
      InitBatch(format_.schema, &s.full);
    } else {
      ClearBatch(&s.full);
    }
    // Columns swapped out last time come back here: make sure each has its field's type.
    for (size_t c = 0; c < s.full.columns.size(); ++c) {
      if (s.full.columns[c].type != format_.schema[c].type) {
        s.full.columns[c] = Column();
        s.full.columns[c].type = format_.schema[c].type;
      }
    }
    const int fi = s.chunk.file_index;
    m->file_index = fi;
    m->source = ds_.files[fi].path;
    m->first_row = s.chunk.first_line;
    DE_RETURN_IF_ERROR(s.parser->Parse(s.chunk.data.get(), s.chunk.size, s.chunk.first_line,
                                       format_.header && s.chunk.file_start, m->source, &s.full,
                                       &m->stats, &m->rejects));
    for (auto& c : m->batch.columns) c.Clear();
    Project(&s.full, fi, m);
    return true;
  }

  // Claims the next row group that may match; opens files lazily.
  absl::StatusOr<bool> ClaimRowGroup(int* file, int* rg, std::shared_ptr<const ParquetReader>* r) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    while (pq_file_ < ds_.files.size()) {
      if (!readers_[pq_file_]) {
        auto opened = ParquetReader::Open(ds_.files[pq_file_].path);
        if (!opened.ok()) return error_ = opened.status();
        readers_[pq_file_] = std::move(*opened);
        auto st = CheckSameSchema(*readers_[pq_file_], ds_.files[pq_file_].path);
        if (!st.ok()) return error_ = st;
      }
      const auto& reader = readers_[pq_file_];
      if (pq_rg_ >= reader->num_row_groups()) {
        readers_[pq_file_].reset();  // closed once its morsels are done
        ++pq_file_;
        pq_rg_ = 0;
        continue;
      }
      int g = pq_rg_++;
      if (prune_ != nullptr && !MayMatch(*reader, static_cast<int>(pq_file_), g)) {
        ++skipped_;
        continue;
      }
      *file = static_cast<int>(pq_file_);
      *rg = g;
      *r = reader;
      return true;
    }
    return false;
  }

  absl::Status CheckSameSchema(const ParquetReader& r, const std::string& path) {
    const Schema& s = r.schema();
    for (int c : file_cols_) {
      const Field& want = file_schema_[c];
      if (c >= static_cast<int>(s.size()) || s[c].name != want.name) {
        return absl::FailedPreconditionError(absl::StrCat(
            "input: ", path, " does not have the columns of ", ds_.files[0].path, " (column ", c + 1,
            " should be '", want.name, "')"));
      }
      if (s[c].type != want.type) {
        return absl::FailedPreconditionError(absl::StrCat(
            "input: column '", want.name, "' is ", TypeName(s[c].type), " in ", path, " but ",
            TypeName(want.type), " in ", ds_.files[0].path));
      }
    }
    return absl::OkStatus();
  }

  bool MayMatch(const ParquetReader& r, int file, int rg) {
    std::vector<std::optional<ColumnRange>> ranges(schema_.size());
    for (size_t i = 0; i < out_.size(); ++i) {
      if (out_[i].file_col >= 0) {
        auto st = r.Statistics(rg, out_[i].file_col);
        if (st.ok()) ranges[i] = RangeFromStats(*st, schema_[i].type);
      } else {
        ranges[i] = RangeOfConstant(part_types_[out_[i].part],
                                    ds_.files[file].partition_values[out_[i].part]);
      }
    }
    return prune_->MayMatch(ranges);
  }

  absl::StatusOr<bool> NextParquet(Morsel* m) {
    MorselScratch& s = *m->scratch;
    // A row group read for partition columns only still needs its row count: read one column.
    static const std::vector<int> kFirstColumn = {0};
    const std::vector<int>& cols = file_cols_.empty() ? kFirstColumn : file_cols_;
    ParquetReadOptions ro;
    ro.keep_dictionary = opt_.dictionary_strings;
    Batch& b = m->scratch->row_group;
    // The caller is done with the previous morsel: its file columns' buffers are decoded into.
    if (m->batch.columns.size() == out_.size() && b.columns.size() == file_cols_.size()) {
      size_t k = 0;
      for (size_t i = 0; i < out_.size(); ++i) {
        if (out_[i].file_col >= 0) std::swap(m->batch.columns[i], b.columns[k++]);
      }
    }
    if (!s.stream_reader) {
      int file = 0, rg = 0;
      std::shared_ptr<const ParquetReader> reader;
      DE_ASSIGN_OR_RETURN(bool more, ClaimRowGroup(&file, &rg, &reader));
      if (!more) return false;
      int64_t first = 0;
      for (int g = 0; g < rg; ++g) first += reader->row_group_num_rows(g);
      s.stream_file = file;
      s.stream_first_row = first;
      DE_ASSIGN_OR_RETURN(bool streamed, s.stream.Start(*reader, rg, cols, ro));
      if (streamed && s.stream.rows_left() > 0) {
        s.stream_reader = reader;
      } else {  // an encoding the stream does not decode (or no rows): the row group whole
        m->scratch->reader = reader;
        DE_RETURN_IF_ERROR(reader->ReadRowGroupInto(rg, cols, ro, &b));
        m->first_row = first;
        m->scratch->reader.reset();
      }
    }
    const int file = s.stream_file;
    if (s.stream_reader) {
      m->first_row = s.stream_first_row + static_cast<int64_t>(s.stream.rows_done());
      absl::Status st = s.stream.Next(kParquetSliceRows, &b);
      if (!st.ok() || s.stream.rows_left() == 0) s.stream_reader.reset();
      DE_RETURN_IF_ERROR(st);
    }
    m->file_index = file;
    m->source = ds_.files[file].path;
    // `b` holds the picked file columns in file_cols_ order; place them and the constants.
    Batch& out = m->batch;
    out.columns.resize(out_.size());
    out.num_rows = b.num_rows;
    size_t next_file_col = 0;
    for (size_t i = 0; i < out_.size(); ++i) {
      if (out_[i].file_col >= 0) {
        std::swap(out.columns[i], b.columns[next_file_col++]);  // the old buffers go back for reuse
      } else {
        AppendConstant(part_types_[out_[i].part], ds_.files[file].partition_values[out_[i].part],
                       b.num_rows, &out.columns[i]);
      }
    }
    m->stats.rows_in = static_cast<int64_t>(b.num_rows);
    m->stats.rows_out = static_cast<int64_t>(b.num_rows);
    return true;
  }

  const ResolvedDataset ds_;
  const SourceOptions opt_;
  // Constant after Init.
  Schema file_schema_;
  Schema schema_;
  std::vector<OutCol> out_;
  std::vector<int> file_cols_;
  std::vector<Type> part_types_;
  CsvFormat format_;
  int64_t input_bytes_ = 0;
  const BoundExpr* prune_ = nullptr;

  mutable std::mutex mu_;
  absl::Status error_;                       // guarded by mu_: sticky, every later Next fails
  // CSV, guarded by mu_.
  size_t file_ = 0;
  int64_t seq_ = 0;
  std::unique_ptr<InputStream> stream_;
  std::unique_ptr<CsvSplitter> splitter_;
  // Parquet, guarded by mu_.
  std::vector<std::shared_ptr<const ParquetReader>> readers_;
  size_t pq_file_ = 0;
  int pq_rg_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TableSource>> TableSource::Open(ResolvedDataset dataset,
                                                               SourceOptions options) {
  auto s = std::make_unique<TableSourceImpl>(std::move(dataset), std::move(options));
  DE_RETURN_IF_ERROR(s->Init());
  return s;
}

}  // namespace de::engine
