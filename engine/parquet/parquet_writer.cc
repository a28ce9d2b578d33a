#include "engine/parquet/parquet_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
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
#include "engine/parquet/bit_util.h"
#include "engine/io/codec.h"
#include "engine/parquet/encoding.h"
#include "engine/parquet/parquet_format.h"

namespace de::engine {
namespace {

namespace pq = ::de::engine::parquet;

constexpr size_t kMiniBatchRows = 4096;       // page-size checks happen this often
constexpr size_t kSliceRows = 128 * 1024;     // row-group-size checks (and thread hand-offs)
constexpr size_t kPointlessDictMinValues = 1024;

pq::PhysicalType PhysicalFor(Type t) {
  switch (t) {
    case Type::kBool: return pq::PhysicalType::kBoolean;
    case Type::kInt32:
    case Type::kDate: return pq::PhysicalType::kInt32;
    case Type::kInt64:
    case Type::kDecimal:
    case Type::kTimestamp: return pq::PhysicalType::kInt64;
    case Type::kDouble: return pq::PhysicalType::kDouble;
    case Type::kString: return pq::PhysicalType::kByteArray;
  }
  return pq::PhysicalType::kByteArray;
}

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

template <typename T>
std::string PlainBytes(T v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(T));
}

inline uint32_t KeyOf(int32_t v) { return static_cast<uint32_t>(v); }
inline uint64_t KeyOf(int64_t v) { return static_cast<uint64_t>(v); }
inline uint64_t KeyOf(double v) {
  uint64_t k;
  std::memcpy(&k, &v, 8);
  return k;
}

// Encodes one column: buffers the current page, flushes pages (levels + values, compressed) into the
// column chunk buffer, and keeps the chunk's dictionary and statistics. Independent of other columns,
// so columns can be driven from different threads.
class ColumnWriter {
 public:
  ColumnWriter(const Field& field, const ParquetWriterOptions& options)
      : field_(field), options_(options), physical_(PhysicalFor(field.type)),
        max_def_(field.nullable ? 1 : 0) {
    use_dict_ = field.type != Type::kBool;
    ResetChunk();
  }

  absl::Status Append(const Column& col, size_t begin, size_t end);
  absl::Status FinishChunk();
  void ResetChunk();

  const ByteBuffer& dict_page() const { return dict_page_; }
  const ByteBuffer& data_pages() const { return data_pages_; }
  pq::ColumnMetaData BuildMetaData(int64_t chunk_offset) const;
  int64_t EstimatedChunkBytes() const;

 private:
  double DictRatio() const;
  enum class Mode { kDict, kPlain };

  template <typename T, typename Dict>
  void AppendFixed(const T* v, const uint8_t* valid, size_t b, size_t e, Dict& dict);
  void AppendBools(const uint8_t* v, const uint8_t* valid, size_t b, size_t e);
  void AppendStrings(const Column& col, size_t b, size_t e);
  template <typename T>
  void UpdateStats(T v);
  void UpdateStringStats(std::string_view s);

  size_t DictSize() const;
  size_t DictPlainBytes() const;
  size_t EstimatedPageBytes() const;
  absl::Status FlushPage();
  void ConvertPageToPlain();
  void EncodeDictionary(ByteBuffer* out) const;
  absl::Status EmitPage(pq::PageHeader* header, const ByteBuffer& raw, ByteBuffer* target);

  const Field field_;
  const ParquetWriterOptions& options_;
  const pq::PhysicalType physical_;
  const int max_def_;
  bool use_dict_;                 // false for bool and after the dictionary proved pointless
  Mode mode_ = Mode::kDict;

  FixedDict<uint32_t> dict32_;
  FixedDict<uint64_t> dict64_;
  StringDict sdict_;

  // Current page.
  size_t page_rows_ = 0;
  std::vector<uint8_t> page_levels_;
  std::vector<uint32_t> page_indices_;
  std::vector<uint8_t> page_bools_;
  ByteBuffer page_values_;

  // Current chunk.
  ByteBuffer data_pages_;
  ByteBuffer dict_page_;
  int64_t num_values_ = 0;
  int64_t null_count_ = 0;
  int64_t nan_count_ = 0;
  int64_t uncompressed_bytes_ = 0;   // data pages incl. headers
  int64_t compressed_bytes_ = 0;
  int64_t estimated_bytes_ = 0;      // EstimatedPageBytes() of the flushed pages: calibrates the estimate
  int64_t dict_uncompressed_bytes_ = 0;
  int dict_pages_ = 0, plain_pages_ = 0;
  bool has_minmax_ = false;
  int64_t imin_ = 0, imax_ = 0;
  double dmin_ = 0, dmax_ = 0;
  std::string smin_, smax_;
  double last_ratio_ = 1.0;          // compressed/estimated bytes of the previous chunk's data pages

  mutable double dict_ratio_ = -1;   // sampled compressed/plain ratio of the dictionary
  mutable size_t dict_ratio_at_ = 0; // dictionary plain bytes when sampled
  mutable ByteBuffer sample_buf_;

  // Scratch reused across pages.
  ByteBuffer page_buf_;
  ByteBuffer comp_buf_;
  std::string header_buf_;
};

void ColumnWriter::ResetChunk() {
  if (estimated_bytes_ > 0) last_ratio_ = double(compressed_bytes_) / double(estimated_bytes_);
  mode_ = use_dict_ ? Mode::kDict : Mode::kPlain;
  dict32_.Clear();
  dict64_.Clear();
  sdict_.Clear();
  page_rows_ = 0;
  page_levels_.clear();
  page_indices_.clear();
  page_bools_.clear();
  page_values_.clear();
  data_pages_.clear();
  dict_page_.clear();
  num_values_ = null_count_ = nan_count_ = 0;
  uncompressed_bytes_ = compressed_bytes_ = dict_uncompressed_bytes_ = estimated_bytes_ = 0;
  dict_pages_ = plain_pages_ = 0;
  dict_ratio_ = -1;
  dict_ratio_at_ = 0;
  has_minmax_ = false;
  smin_.clear();
  smax_.clear();
}

template <typename T>
inline void ColumnWriter::UpdateStats(T v) {
  if constexpr (std::is_same_v<T, double>) {
    if (std::isnan(v)) return;
    if (!has_minmax_) {
      dmin_ = dmax_ = v;
      has_minmax_ = true;
    } else {
      if (v < dmin_) dmin_ = v;
      if (v > dmax_) dmax_ = v;
    }
  } else {
    int64_t x = v;
    if (!has_minmax_) {
      imin_ = imax_ = x;
      has_minmax_ = true;
    } else {
      if (x < imin_) imin_ = x;
      if (x > imax_) imax_ = x;
    }
  }
}

inline void ColumnWriter::UpdateStringStats(std::string_view s) {
  if (!has_minmax_) {
    smin_.assign(s);
    smax_.assign(s);
    has_minmax_ = true;
  } else if (s < smin_) {  // char_traits<char> compares as unsigned char: UTF-8 bytewise order
    smin_.assign(s);
  } else if (s > smax_) {
    smax_.assign(s);
  }
}

size_t ColumnWriter::DictSize() const {
  switch (physical_) {
    case pq::PhysicalType::kInt32: return dict32_.size();
    case pq::PhysicalType::kInt64:
    case pq::PhysicalType::kDouble: return dict64_.size();
    case pq::PhysicalType::kByteArray: return sdict_.size();
    default: return 0;
  }
}

size_t ColumnWriter::DictPlainBytes() const {
  switch (physical_) {
    case pq::PhysicalType::kInt32: return dict32_.plain_bytes();
    case pq::PhysicalType::kInt64:
    case pq::PhysicalType::kDouble: return dict64_.plain_bytes();
    case pq::PhysicalType::kByteArray: return sdict_.plain_bytes();
    default: return 0;
  }
}

size_t ColumnWriter::EstimatedPageBytes() const {
  size_t levels = max_def_ ? page_rows_ / 8 + 8 : 0;
  if (mode_ == Mode::kDict) {
    int bw = std::max(1, BitWidth(DictSize() > 0 ? DictSize() - 1 : 0));
    return levels + (page_indices_.size() * bw + 7) / 8 + 1;
  }
  if (physical_ == pq::PhysicalType::kBoolean) return levels + (page_bools_.size() + 7) / 8;
  return levels + page_values_.size();
}

double ColumnWriter::DictRatio() const {
  size_t plain = DictPlainBytes();
  if (options_.codec == Codec::kNone || plain == 0) return 1.0;
  if (dict_ratio_ >= 0 && plain < 2 * dict_ratio_at_ + 4096) return dict_ratio_;
  // Compress a sample (the newest ~64 KiB of entries) to learn how well this dictionary compresses;
  // redone each time the dictionary doubles, so at most a few dozen times per chunk.
  constexpr size_t kSample = 64 * 1024;
  sample_buf_.clear();
  switch (physical_) {
    case pq::PhysicalType::kInt32: {
      size_t n = std::min(dict32_.size(), kSample / 4);
      sample_buf_.Append(dict32_.values().data() + dict32_.size() - n, n * 4);
      break;
    }
    case pq::PhysicalType::kInt64:
    case pq::PhysicalType::kDouble: {
      size_t n = std::min(dict64_.size(), kSample / 8);
      sample_buf_.Append(dict64_.values().data() + dict64_.size() - n, n * 8);
      break;
    }
    case pq::PhysicalType::kByteArray:
      for (size_t i = sdict_.size(); i > 0 && sample_buf_.size() < kSample; --i) {
        std::string_view v = sdict_.value(i - 1);
        char len[4];
        StoreLE32(len, static_cast<uint32_t>(v.size()));
        sample_buf_.Append(len, 4);
        sample_buf_.Append(v);
      }
      break;
    default:
      return 1.0;
  }
  ByteBuffer out;
  if (!CompressBlock(options_.codec, options_.compression_level, sample_buf_.data(), sample_buf_.size(), &out).ok()) {
    return 1.0;
  }
  dict_ratio_ = std::min(1.0, static_cast<double>(out.size() + 16) / static_cast<double>(sample_buf_.size()));
  dict_ratio_at_ = plain;
  return dict_ratio_;
}

int64_t ColumnWriter::EstimatedChunkBytes() const {
  // Actual bytes per estimated byte so far (covers RLE runs, levels and compression).
  double ratio = estimated_bytes_ > 0 ? double(compressed_bytes_) / double(estimated_bytes_) : last_ratio_;
  double pending = ratio * static_cast<double>(EstimatedPageBytes());
  if (dict_page_.empty() && (dict_pages_ > 0 || mode_ == Mode::kDict)) {
    pending += DictRatio() * static_cast<double>(DictPlainBytes());
  }
  return static_cast<int64_t>(data_pages_.size() + dict_page_.size() + pending);
}

template <typename T, typename Dict>
void ColumnWriter::AppendFixed(const T* v, const uint8_t* valid, size_t b, size_t e, Dict& dict) {
  if (mode_ == Mode::kDict) {
    size_t old = page_indices_.size();
    page_indices_.resize(old + (e - b));
    uint32_t* out = page_indices_.data() + old;
    size_t k = 0;
    for (size_t i = b; i < e; ++i) {
      if (max_def_ && !valid[i]) continue;
      bool inserted;
      uint32_t idx = dict.FindOrInsert(KeyOf(v[i]), &inserted);
      if (inserted) UpdateStats(v[i]);
      if constexpr (std::is_same_v<T, double>) nan_count_ += std::isnan(v[i]);
      out[k++] = idx;
    }
    page_indices_.resize(old + k);
  } else {
    char* dst = page_values_.Grow((e - b) * sizeof(T));
    size_t k = 0;
    for (size_t i = b; i < e; ++i) {
      if (max_def_ && !valid[i]) continue;
      std::memcpy(dst + k * sizeof(T), &v[i], sizeof(T));
      UpdateStats(v[i]);
      if constexpr (std::is_same_v<T, double>) nan_count_ += std::isnan(v[i]);
      ++k;
    }
    page_values_.Advance(k * sizeof(T));
  }
}

void ColumnWriter::AppendBools(const uint8_t* v, const uint8_t* valid, size_t b, size_t e) {
  for (size_t i = b; i < e; ++i) {
    if (max_def_ && !valid[i]) continue;
    uint8_t x = v[i] ? 1 : 0;
    page_bools_.push_back(x);
    UpdateStats<int64_t>(x);
  }
}

void ColumnWriter::AppendStrings(const Column& col, size_t b, size_t e) {
  const uint8_t* valid = col.valid.data();
  const uint32_t* off = col.offsets.data();
  const char* bytes = col.bytes.data();
  if (mode_ == Mode::kDict) {
    size_t old = page_indices_.size();
    page_indices_.resize(old + (e - b));
    uint32_t* out = page_indices_.data() + old;
    size_t k = 0;
    for (size_t i = b; i < e; ++i) {
      if (max_def_ && !valid[i]) continue;
      uint32_t len = off[i + 1] - off[i];
      bool inserted;
      uint32_t idx = sdict_.FindOrInsert(bytes + off[i], len, &inserted);
      if (inserted) UpdateStringStats(std::string_view(bytes + off[i], len));
      out[k++] = idx;
    }
    page_indices_.resize(old + k);
  } else {
    size_t need = (off[e] - off[b]) + 4 * (e - b);
    char* dst = page_values_.Grow(need);
    size_t pos = 0;
    for (size_t i = b; i < e; ++i) {
      if (max_def_ && !valid[i]) continue;
      uint32_t len = off[i + 1] - off[i];
      StoreLE32(dst + pos, len);
      std::memcpy(dst + pos + 4, bytes + off[i], len);
      pos += 4 + len;
      UpdateStringStats(std::string_view(bytes + off[i], len));
    }
    page_values_.Advance(pos);
  }
}

absl::Status ColumnWriter::Append(const Column& col, size_t begin, size_t end) {
  const uint8_t* valid = col.valid.data();
  while (begin < end) {
    size_t m = std::min(end, begin + kMiniBatchRows);
    size_t n = m - begin;
    if (max_def_) {
      page_levels_.insert(page_levels_.end(), valid + begin, valid + m);
      size_t set = 0;
      for (size_t i = begin; i < m; ++i) set += valid[i] != 0;
      null_count_ += static_cast<int64_t>(n - set);
    }
    page_rows_ += n;
    switch (field_.type) {
      case Type::kBool: AppendBools(col.u8.data(), valid, begin, m); break;
      case Type::kInt32:
      case Type::kDate: AppendFixed(col.i32.data(), valid, begin, m, dict32_); break;
      case Type::kInt64:
      case Type::kDecimal:
      case Type::kTimestamp: AppendFixed(col.i64.data(), valid, begin, m, dict64_); break;
      case Type::kDouble: AppendFixed(col.f64.data(), valid, begin, m, dict64_); break;
      case Type::kString: AppendStrings(col, begin, m); break;
    }
    begin = m;
    if (mode_ == Mode::kDict && DictPlainBytes() > static_cast<size_t>(options_.dictionary_max_bytes)) {
      DE_RETURN_IF_ERROR(FlushPage());
      mode_ = Mode::kPlain;  // the rest of this chunk is PLAIN
    } else if (EstimatedPageBytes() >= static_cast<size_t>(options_.page_bytes)) {
      DE_RETURN_IF_ERROR(FlushPage());
    }
  }
  return absl::OkStatus();
}

void ColumnWriter::ConvertPageToPlain() {
  page_values_.clear();
  switch (physical_) {
    case pq::PhysicalType::kInt32: {
      const auto& d = dict32_.values();
      char* dst = page_values_.Grow(page_indices_.size() * 4);
      for (size_t i = 0; i < page_indices_.size(); ++i) StoreLE32(dst + 4 * i, d[page_indices_[i]]);
      page_values_.Advance(page_indices_.size() * 4);
      break;
    }
    case pq::PhysicalType::kInt64:
    case pq::PhysicalType::kDouble: {
      const auto& d = dict64_.values();
      char* dst = page_values_.Grow(page_indices_.size() * 8);
      for (size_t i = 0; i < page_indices_.size(); ++i) StoreLE64(dst + 8 * i, d[page_indices_[i]]);
      page_values_.Advance(page_indices_.size() * 8);
      break;
    }
    case pq::PhysicalType::kByteArray:
      for (uint32_t idx : page_indices_) {
        std::string_view s = sdict_.value(idx);
        char len[4];
        StoreLE32(len, static_cast<uint32_t>(s.size()));
        page_values_.Append(len, 4);
        page_values_.Append(s);
      }
      break;
    default:
      break;
  }
  page_indices_.clear();
  dict32_.Clear();
  dict64_.Clear();
  sdict_.Clear();
}

absl::Status ColumnWriter::EmitPage(pq::PageHeader* h, const ByteBuffer& raw, ByteBuffer* target) {
  const char* data = raw.data();
  size_t csize = raw.size();
  if (options_.codec != Codec::kNone) {
    comp_buf_.clear();
    DE_RETURN_IF_ERROR(CompressBlock(options_.codec, options_.compression_level, raw.data(), raw.size(), &comp_buf_));
    data = comp_buf_.data();
    csize = comp_buf_.size();
  }
  if (raw.size() > INT32_MAX || csize > INT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat("parquet: page of column '", field_.name, "' exceeds 2 GiB"));
  }
  h->uncompressed_page_size = static_cast<int32_t>(raw.size());
  h->compressed_page_size = static_cast<int32_t>(csize);
  header_buf_.clear();
  pq::SerializePageHeader(*h, &header_buf_);
  target->Append(header_buf_);
  target->Append(data, csize);
  if (h->type == pq::PageType::kDictionaryPage) {
    dict_uncompressed_bytes_ += header_buf_.size() + raw.size();
  } else {
    uncompressed_bytes_ += header_buf_.size() + raw.size();
    compressed_bytes_ += header_buf_.size() + csize;
  }
  return absl::OkStatus();
}

absl::Status ColumnWriter::FlushPage() {
  if (page_rows_ == 0) return absl::OkStatus();
  if (page_rows_ > INT32_MAX) return absl::InternalError("parquet: page too large");
  const int64_t estimated = static_cast<int64_t>(EstimatedPageBytes());
  // A first page whose values are mostly distinct: the dictionary does not pay; write PLAIN for the
  // rest of the file.
  if (mode_ == Mode::kDict && dict_pages_ == 0 && page_indices_.size() >= kPointlessDictMinValues &&
      DictSize() * 4 > page_indices_.size() * 3) {
    ConvertPageToPlain();
    mode_ = Mode::kPlain;
    use_dict_ = false;
  }
  page_buf_.clear();
  if (max_def_) {
    page_buf_.Resize(4);
    RleHybridEncode(page_levels_.data(), page_rows_, 1, &page_buf_);
    StoreLE32(page_buf_.data(), static_cast<uint32_t>(page_buf_.size() - 4));
  }
  pq::PageHeader h;
  h.type = pq::PageType::kDataPage;
  pq::DataPageHeader& dp = h.data_page_header.emplace();
  dp.num_values = static_cast<int32_t>(page_rows_);
  dp.definition_level_encoding = pq::Encoding::kRle;
  dp.repetition_level_encoding = pq::Encoding::kRle;
  if (mode_ == Mode::kDict && DictSize() > 0) {
    int bw = std::max(1, BitWidth(DictSize() - 1));
    page_buf_.PushByte(static_cast<uint8_t>(bw));
    RleHybridEncode(page_indices_.data(), page_indices_.size(), bw, &page_buf_);
    dp.encoding = pq::Encoding::kRleDictionary;
    ++dict_pages_;
  } else {
    dp.encoding = pq::Encoding::kPlain;
    if (physical_ == pq::PhysicalType::kBoolean) {
      size_t nb = (page_bools_.size() + 7) / 8;
      uint8_t* dst = reinterpret_cast<uint8_t*>(page_buf_.Grow(nb));
      std::memset(dst, 0, nb);
      for (size_t i = 0; i < page_bools_.size(); ++i) dst[i >> 3] |= page_bools_[i] << (i & 7);
      page_buf_.Advance(nb);
    } else {
      page_buf_.Append(page_values_.data(), page_values_.size());
    }
    ++plain_pages_;
  }
  DE_RETURN_IF_ERROR(EmitPage(&h, page_buf_, &data_pages_));
  estimated_bytes_ += estimated;
  num_values_ += static_cast<int64_t>(page_rows_);
  page_rows_ = 0;
  page_levels_.clear();
  page_indices_.clear();
  page_bools_.clear();
  page_values_.clear();
  return absl::OkStatus();
}

void ColumnWriter::EncodeDictionary(ByteBuffer* out) const {
  switch (physical_) {
    case pq::PhysicalType::kInt32:
      out->Append(dict32_.values().data(), dict32_.size() * 4);
      break;
    case pq::PhysicalType::kInt64:
    case pq::PhysicalType::kDouble:
      out->Append(dict64_.values().data(), dict64_.size() * 8);
      break;
    case pq::PhysicalType::kByteArray:
      out->Reserve(out->size() + sdict_.plain_bytes());
      for (size_t i = 0; i < sdict_.size(); ++i) {
        std::string_view s = sdict_.value(i);
        char len[4];
        StoreLE32(len, static_cast<uint32_t>(s.size()));
        out->Append(len, 4);
        out->Append(s);
      }
      break;
    default:
      break;
  }
}

absl::Status ColumnWriter::FinishChunk() {
  DE_RETURN_IF_ERROR(FlushPage());
  if (dict_pages_ > 0) {
    page_buf_.clear();
    EncodeDictionary(&page_buf_);
    pq::PageHeader h;
    h.type = pq::PageType::kDictionaryPage;
    pq::DictionaryPageHeader& d = h.dictionary_page_header.emplace();
    d.num_values = static_cast<int32_t>(DictSize());
    d.encoding = pq::Encoding::kPlain;
    DE_RETURN_IF_ERROR(EmitPage(&h, page_buf_, &dict_page_));
  }
  return absl::OkStatus();
}

pq::ColumnMetaData ColumnWriter::BuildMetaData(int64_t chunk_offset) const {
  pq::ColumnMetaData m;
  m.type = physical_;
  if (dict_pages_ > 0) m.encodings.push_back(pq::Encoding::kPlain);  // dictionary page
  if (plain_pages_ > 0 && dict_pages_ == 0) m.encodings.push_back(pq::Encoding::kPlain);
  m.encodings.push_back(pq::Encoding::kRle);
  if (dict_pages_ > 0) m.encodings.push_back(pq::Encoding::kRleDictionary);
  m.path_in_schema = {field_.name};
  m.codec = static_cast<pq::CompressionCodec>(ParquetCodecId(options_.codec));
  m.num_values = num_values_;
  m.total_uncompressed_size = uncompressed_bytes_ + dict_uncompressed_bytes_;
  m.total_compressed_size = static_cast<int64_t>(dict_page_.size() + data_pages_.size());
  if (!dict_page_.empty()) m.dictionary_page_offset = chunk_offset;
  m.data_page_offset = chunk_offset + static_cast<int64_t>(dict_page_.size());
  pq::Statistics& s = m.statistics.emplace();
  s.null_count = null_count_;
  // Very long strings would bloat the footer: leave such bounds out (truncating them would need
  // a valid UTF-8 upper bound).
  constexpr size_t kMaxStatBytes = 1024;
  if (has_minmax_ && !(field_.type == Type::kString && (smin_.size() > kMaxStatBytes || smax_.size() > kMaxStatBytes))) {
    std::string lo, hi;
    switch (field_.type) {
      case Type::kBool:
        lo = std::string(1, static_cast<char>(imin_));
        hi = std::string(1, static_cast<char>(imax_));
        break;
      case Type::kInt32:
      case Type::kDate:
        lo = PlainBytes(static_cast<int32_t>(imin_));
        hi = PlainBytes(static_cast<int32_t>(imax_));
        break;
      case Type::kInt64:
      case Type::kDecimal:
      case Type::kTimestamp:
        lo = PlainBytes(imin_);
        hi = PlainBytes(imax_);
        break;
      case Type::kDouble:
        // Spec: a zero min is written as -0.0, a zero max as +0.0.
        lo = PlainBytes(dmin_ == 0.0 ? -0.0 : dmin_);
        hi = PlainBytes(dmax_ == 0.0 ? 0.0 : dmax_);
        break;
      case Type::kString:
        lo = smin_;
        hi = smax_;
        break;
    }
    if (field_.type != Type::kString) {  // the deprecated fields use signed order: fine for these
      s.min = lo;
      s.max = hi;
    }
    s.min_value = std::move(lo);
    s.max_value = std::move(hi);
  }
  if (field_.type == Type::kDouble) s.nan_count = nan_count_;
  if (dict_pages_ > 0) m.encoding_stats.push_back({pq::PageType::kDictionaryPage, pq::Encoding::kPlain, 1});
  if (dict_pages_ > 0) m.encoding_stats.push_back({pq::PageType::kDataPage, pq::Encoding::kRleDictionary, dict_pages_});
  if (plain_pages_ > 0) m.encoding_stats.push_back({pq::PageType::kDataPage, pq::Encoding::kPlain, plain_pages_});
  return m;
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
  if (options.row_group_rows <= 0 || options.page_bytes <= 0) {
    return absl::InvalidArgumentError("parquet writer: row_group_rows and page_bytes must be positive");
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  auto w = std::make_unique<ParquetWriterImpl>(path, fd, schema, options);
  DE_RETURN_IF_ERROR(w->Start());
  return w;
}

}  // namespace de::engine
