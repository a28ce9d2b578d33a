// ParquetReader: opening a file, its footer and schema, and reading row groups column by column
// (pages: parquet_chunk.cc; value decoding: parquet_decode.cc, parquet_build.cc).
#include "engine/parquet/parquet_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/parquet/bit_util.h"
#include "engine/parquet/parquet_decode.h"

namespace de::engine {

namespace pq = ::de::engine::parquet;
using Leaf = ParquetReader::Leaf;
using parquet_internal::BuildOutput;
using parquet_internal::Corrupt;
using parquet_internal::DecodePlain;
using parquet_internal::Dense;
using parquet_internal::PRead;
using parquet_internal::Store;
using parquet_internal::StoreFor;

namespace {

absl::Status ResolveLeaf(const pq::SchemaElement& e, Leaf* leaf, Field* field) {
  field->name = e.name;
  field->nullable = e.repetition_type.value_or(pq::Repetition::kOptional) != pq::Repetition::kRequired;
  leaf->physical = *e.type;
  leaf->max_def = field->nullable ? 1 : 0;
  const pq::LogicalType& lt = e.logical_type;
  auto ct = e.converted_type;
  bool is_decimal = lt.kind == pq::LogicalType::kDecimal || ct == pq::ConvertedType::kDecimal;
  if (is_decimal) {
    leaf->conv = Leaf::Conv::kDecimal;
    leaf->scale = lt.kind == pq::LogicalType::kDecimal ? lt.scale : e.scale.value_or(0);
    if (leaf->scale < 0 || leaf->scale > 38) return Corrupt(absl::StrCat("column '", e.name, "': bad decimal scale"));
    int precision = lt.kind == pq::LogicalType::kDecimal ? lt.precision : e.precision.value_or(0);
    // Exact when the unscaled value fits an int64; wider decimals (DuckDB's SUM results are
    // DECIMAL(38,s)) are read as doubles.
    if (precision >= 1 && precision <= kMaxDecimalPrecision && leaf->scale <= precision) {
      field->precision = precision;
      field->scale = leaf->scale;
    }
  }
  const Type decimal_type = field->precision > 0 ? Type::kDecimal : Type::kDouble;
  switch (leaf->physical) {
    case pq::PhysicalType::kBoolean:
      field->type = Type::kBool;
      break;
    case pq::PhysicalType::kInt32:
      if (is_decimal) {
        field->type = decimal_type;
      } else if (lt.kind == pq::LogicalType::kDate || ct == pq::ConvertedType::kDate) {
        field->type = Type::kDate;
      } else if ((lt.kind == pq::LogicalType::kInteger && !lt.is_signed && lt.bit_width == 32) ||
                 ct == pq::ConvertedType::kUint32) {
        field->type = Type::kInt64;
        leaf->conv = Leaf::Conv::kUint32;
      } else {
        field->type = Type::kInt32;
      }
      break;
    case pq::PhysicalType::kInt64:
      if (is_decimal) {
        field->type = decimal_type;
      } else if (lt.kind == pq::LogicalType::kTimestamp) {
        field->type = Type::kTimestamp;
        if (lt.unit == pq::TimeUnit::kMillis) leaf->conv = Leaf::Conv::kTsMillis;
        if (lt.unit == pq::TimeUnit::kNanos) leaf->conv = Leaf::Conv::kTsNanos;
      } else if (ct == pq::ConvertedType::kTimestampMillis) {
        field->type = Type::kTimestamp;
        leaf->conv = Leaf::Conv::kTsMillis;
      } else if (ct == pq::ConvertedType::kTimestampMicros) {
        field->type = Type::kTimestamp;
      } else {
        field->type = Type::kInt64;
      }
      break;
    case pq::PhysicalType::kInt96:
      field->type = Type::kTimestamp;
      break;
    case pq::PhysicalType::kFloat:
    case pq::PhysicalType::kDouble:
      field->type = Type::kDouble;
      break;
    case pq::PhysicalType::kByteArray:
      field->type = is_decimal ? decimal_type : Type::kString;
      break;
    case pq::PhysicalType::kFixedLenByteArray:
      if (e.type_length.value_or(0) <= 0) return Corrupt(absl::StrCat("column '", e.name, "': FIXED_LEN_BYTE_ARRAY without a length"));
      leaf->type_length = *e.type_length;
      field->type = is_decimal ? decimal_type : Type::kString;
      if (lt.kind == pq::LogicalType::kUuid && leaf->type_length == 16) leaf->conv = Leaf::Conv::kUuid;
      if (lt.kind == pq::LogicalType::kFloat16) {
        if (leaf->type_length != 2) return Corrupt(absl::StrCat("column '", e.name, "': FLOAT16 is not 2 bytes wide"));
        field->type = Type::kDouble;
        leaf->conv = Leaf::Conv::kFloat16;
      }
      break;
    default:
      return absl::UnimplementedError(absl::StrCat("parquet: column '", e.name, "' has unknown physical type ",
                                                   static_cast<int>(leaf->physical)));
  }
  leaf->type = field->type;
  return absl::OkStatus();
}

}  // namespace

ParquetReader::~ParquetReader() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::unique_ptr<ParquetReader>> ParquetReader::Open(const std::string& path) {
  std::unique_ptr<ParquetReader> r(new ParquetReader());
  r->path_ = path;
  r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) return absl::NotFoundError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  DE_RETURN_IF_ERROR(r->Init());
  return r;
}

absl::Status ParquetReader::Init() {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return absl::InternalError(absl::StrCat("stat ", path_, ": ", std::strerror(errno)));
  file_size_ = st.st_size;
  auto bad = [&](absl::string_view what) { return absl::DataLossError(absl::StrCat(path_, ": ", what)); };
  if (file_size_ < 12) return bad("not a Parquet file (too small)");
  char head[4], tail[8];
  DE_RETURN_IF_ERROR(PRead(fd_, 0, 4, head, path_));
  DE_RETURN_IF_ERROR(PRead(fd_, file_size_ - 8, 8, tail, path_));
  if (std::memcmp(tail + 4, "PARE", 4) == 0) return absl::UnimplementedError(absl::StrCat(path_, ": encrypted Parquet files are not supported"));
  if (std::memcmp(head, "PAR1", 4) != 0 || std::memcmp(tail + 4, "PAR1", 4) != 0) return bad("not a Parquet file (bad magic)");
  uint32_t footer_len = LoadLE32(tail);
  if (footer_len == 0 || footer_len > static_cast<uint64_t>(file_size_ - 12)) return bad("bad footer length");
  std::string footer(footer_len, '\0');
  DE_RETURN_IF_ERROR(PRead(fd_, file_size_ - 8 - footer_len, footer_len, footer.data(), path_));
  if (auto s = pq::ParseFileMetaData(footer.data(), footer.size(), &metadata_); !s.ok()) {
    return absl::DataLossError(absl::StrCat(path_, ": ", s.message()));
  }
  // Schema: a root group whose children are all primitive (flat).
  const auto& sch = metadata_.schema;
  if (sch.empty()) return bad("empty schema");
  if (sch[0].type) return bad("schema root is not a group");
  size_t i = 1;
  while (i < sch.size()) {
    const pq::SchemaElement& e = sch[i];
    if (!e.type || e.num_children.value_or(0) > 0 || e.repetition_type == pq::Repetition::kRepeated) {
      const char* kind = "STRUCT";
      if (e.logical_type.kind == pq::LogicalType::kList || e.converted_type == pq::ConvertedType::kList) kind = "LIST";
      if (e.logical_type.kind == pq::LogicalType::kMap || e.converted_type == pq::ConvertedType::kMap ||
          e.converted_type == pq::ConvertedType::kMapKeyValue) {
        kind = "MAP";
      }
      if (e.type) kind = "repeated";
      return absl::UnimplementedError(absl::StrCat(path_, ": nested column '", e.name, "' (", kind,
                                                   ") is not supported; only flat columns can be read"));
    }
    Leaf leaf;
    Field field;
    DE_RETURN_IF_ERROR(ResolveLeaf(e, &leaf, &field));
    leaves_.push_back(leaf);
    schema_.push_back(field);
    ++i;
  }
  if (static_cast<size_t>(sch[0].num_children.value_or(0)) != leaves_.size()) return bad("schema root child count mismatch");
  int64_t total = 0;
  for (const auto& rg : metadata_.row_groups) {
    if (rg.columns.size() != leaves_.size()) return bad("row group column count does not match the schema");
    if (rg.num_rows < 0 || rg.num_rows > INT32_MAX) return bad("bad row group row count");
    for (size_t c = 0; c < rg.columns.size(); ++c) {
      const auto& cc = rg.columns[c];
      if (!cc.meta_data) return bad("column chunk without metadata");
      if (cc.file_path) return absl::UnimplementedError(absl::StrCat(path_, ": column data in external files is not supported"));
      if (cc.meta_data->type != leaves_[c].physical) return bad("column chunk type does not match the schema");
    }
    total += rg.num_rows;
  }
  if (total != metadata_.num_rows) return bad("row groups do not add up to the file's row count");
  return absl::OkStatus();
}


absl::StatusOr<Batch> ParquetReader::ReadRowGroup(int i, const std::vector<int>& columns) const {
  return ReadRowGroup(i, columns, ParquetReadOptions());
}

absl::StatusOr<Batch> ParquetReader::ReadRowGroup(int i, const std::vector<int>& columns,
                                                  const ParquetReadOptions& options) const {
  Batch batch;
  DE_RETURN_IF_ERROR(ReadRowGroupInto(i, columns, options, &batch));
  return batch;
}

absl::Status ParquetReader::ReadRowGroupInto(int i, const std::vector<int>& columns,
                                             const ParquetReadOptions& options, Batch* batch) const {
  if (i < 0 || i >= num_row_groups()) return absl::OutOfRangeError(absl::StrCat("row group ", i, " does not exist"));
  std::vector<int> cols = columns;
  if (cols.empty()) {
    for (size_t c = 0; c < schema_.size(); ++c) cols.push_back(static_cast<int>(c));
  }
  batch->num_rows = static_cast<size_t>(metadata_.row_groups[i].num_rows);
  batch->columns.resize(cols.size());
  for (size_t k = 0; k < cols.size(); ++k) {
    int c = cols[k];
    if (c < 0 || static_cast<size_t>(c) >= schema_.size()) return absl::OutOfRangeError(absl::StrCat("column ", c, " does not exist"));
    DE_RETURN_IF_ERROR(ReadChunk(i, c, options, &batch->columns[k]));
  }
  return absl::OkStatus();
}

absl::StatusOr<Batch> ParquetReader::ReadAll(const std::vector<int>& columns) const {
  Batch all;
  std::vector<int> cols = columns;
  if (cols.empty()) {
    for (size_t c = 0; c < schema_.size(); ++c) cols.push_back(static_cast<int>(c));
  }
  all.columns.resize(cols.size());
  for (size_t k = 0; k < cols.size(); ++k) {
    all.columns[k].type = schema_.at(cols[k]).type;
    all.columns[k].scale = schema_.at(cols[k]).scale;
  }
  for (int g = 0; g < num_row_groups(); ++g) {
    DE_ASSIGN_OR_RETURN(Batch b, ReadRowGroup(g, cols));
    for (size_t k = 0; k < cols.size(); ++k) {
      Column& dst = all.columns[k];
      Column& src = b.columns[k];
      dst.valid.insert(dst.valid.end(), src.valid.begin(), src.valid.end());
      dst.u8.insert(dst.u8.end(), src.u8.begin(), src.u8.end());
      dst.i32.insert(dst.i32.end(), src.i32.begin(), src.i32.end());
      dst.i64.insert(dst.i64.end(), src.i64.begin(), src.i64.end());
      dst.f64.insert(dst.f64.end(), src.f64.begin(), src.f64.end());
      if (dst.type == Type::kString) {
        if (dst.bytes.size() + src.bytes.size() > UINT32_MAX) return absl::ResourceExhaustedError("string data exceeds 4 GiB");
        uint32_t base = static_cast<uint32_t>(dst.bytes.size());
        for (size_t r = 1; r < src.offsets.size(); ++r) dst.offsets.push_back(base + src.offsets[r]);
        dst.bytes += src.bytes;
      }
    }
    all.num_rows += b.num_rows;
  }
  return all;
}

absl::StatusOr<ColumnChunkStats> ParquetReader::Statistics(int row_group, int column) const {
  if (row_group < 0 || row_group >= num_row_groups()) return absl::OutOfRangeError("no such row group");
  if (column < 0 || static_cast<size_t>(column) >= schema_.size()) return absl::OutOfRangeError("no such column");
  const pq::ColumnMetaData& md = *metadata_.row_groups[row_group].columns[column].meta_data;
  const Leaf& leaf = leaves_[column];
  ColumnChunkStats out;
  out.num_values = md.num_values;
  if (!md.statistics) return out;
  const pq::Statistics& s = *md.statistics;
  out.null_count = s.null_count;
  const std::string* lo = nullptr;
  const std::string* hi = nullptr;
  if (s.min_value && s.max_value) {
    lo = &*s.min_value;
    hi = &*s.max_value;
  } else if (s.min && s.max && leaf.physical != pq::PhysicalType::kByteArray &&
             leaf.physical != pq::PhysicalType::kFixedLenByteArray && leaf.conv != Leaf::Conv::kUint32) {
    lo = &*s.min;  // deprecated fields: signed order, valid for these types
    hi = &*s.max;
  }
  if (lo == nullptr) return out;
  Dense d;
  std::vector<uint8_t> valid = {1, 1};
  std::string both;
  absl::Status st;
  if (StoreFor(leaf.physical) == Store::kStr) {
    st = d.AppendString(lo->data(), lo->size());
    if (st.ok()) st = d.AppendString(hi->data(), hi->size());
  } else {
    size_t w = leaf.physical == pq::PhysicalType::kBoolean ? 1
               : leaf.physical == pq::PhysicalType::kInt96 ? 12
               : (leaf.physical == pq::PhysicalType::kInt32 || leaf.physical == pq::PhysicalType::kFloat) ? 4 : 8;
    if (lo->size() != w || hi->size() != w) return out;  // malformed: ignore
    if (leaf.physical == pq::PhysicalType::kBoolean) {
      d.u8 = {static_cast<uint8_t>((*lo)[0] & 1), static_cast<uint8_t>((*hi)[0] & 1)};
    } else {
      both = *lo + *hi;
      st = DecodePlain(leaf, reinterpret_cast<const uint8_t*>(both.data()), both.size(), 2, &d);
    }
  }
  if (!st.ok()) return out;
  Column c;
  if (!BuildOutput(leaf, valid, d, &c).ok()) return out;
  out.has_min_max = true;
  switch (c.type) {
    case Type::kBool: out.min_int = c.u8[0]; out.max_int = c.u8[1]; break;
    case Type::kInt32:
    case Type::kDate: out.min_int = c.i32[0]; out.max_int = c.i32[1]; break;
    case Type::kInt64:
    case Type::kDecimal:
    case Type::kTimestamp: out.min_int = c.i64[0]; out.max_int = c.i64[1]; break;
    case Type::kDouble: out.min_double = c.f64[0]; out.max_double = c.f64[1]; break;
    case Type::kString: out.min_string = std::string(c.str(0)); out.max_string = std::string(c.str(1)); break;
  }
  return out;
}

}  // namespace de::engine
