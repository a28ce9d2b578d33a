// ColumnWriter (column_writer.h): dictionary or plain pages, statistics, the chunk's metadata.
#include "engine/parquet/column_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/parquet/bit_util.h"

namespace de::engine::parquet_internal {

namespace {

constexpr size_t kPointlessDictMinValues = 1024;

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

}  // namespace

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

void ColumnWriter::ResetChunk() {
  if (estimated_bytes_ > 0) last_ratio_ = double(compressed_bytes_) / double(estimated_bytes_);
  mode_ = use_dict_ ? Mode::kDict : Mode::kPlain;
  dict32_.Clear();
  dict64_.Clear();
  sdict_.Clear();
  page_rows_ = 0;
  page_levels_.clear();
  page_has_null_ = false;
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
      size_t set = 0;
      for (size_t i = begin; i < m; ++i) set += valid[i] != 0;
      null_count_ += static_cast<int64_t>(n - set);
      // The levels are kept once the page has a null; until then the page is all ones.
      if (set < n && !page_has_null_) {
        page_levels_.assign(page_rows_, 1);
        page_has_null_ = true;
      }
      if (page_has_null_) page_levels_.insert(page_levels_.end(), valid + begin, valid + m);
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
    } else if (EstimatedPageBytes() >= static_cast<size_t>(options_.page_bytes) ||
               page_rows_ >= static_cast<size_t>(options_.page_rows)) {
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
    if (!page_has_null_ && page_rows_ >= 8) {
      // No null in the page: one RLE run of ones (what RleHybridEncode writes for it).
      page_buf_.AppendVarint(static_cast<uint64_t>(page_rows_) << 1);
      page_buf_.PushByte(1);
    } else {
      if (!page_has_null_) page_levels_.assign(page_rows_, 1);
      RleHybridEncode(page_levels_.data(), page_rows_, 1, &page_buf_);
    }
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
  page_has_null_ = false;
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

}  // namespace de::engine::parquet_internal
