// RowGroupStream: a row group's column chunks decoded a slice of rows at a time (see the header).
// One ColumnCursor per column reads its chunk a window (256 KiB, or a page) at a time and holds
// the chunk's dictionary and its place in the current page; Take(n) appends n rows' levels and values to slice-sized scratch vectors and
// builds the column from them with the whole-chunk reader's BuildOutput.
#include "engine/parquet/parquet_stream.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/io/codec.h"
#include "engine/parquet/bit_util.h"
#include "engine/parquet/encoding.h"
#include "engine/parquet/parquet_decode.h"

namespace de::engine {

namespace pq = ::de::engine::parquet;

namespace parquet_internal {

namespace {

bool Streamable(const pq::ColumnMetaData& md) {
  if (md.encodings.empty()) return false;
  for (pq::Encoding e : md.encodings) {
    switch (e) {
      case pq::Encoding::kPlain:
      case pq::Encoding::kPlainDictionary:
      case pq::Encoding::kRle:
      case pq::Encoding::kBitPacked:  // (deprecated) levels only
      case pq::Encoding::kRleDictionary:
        break;
      default:
        return false;
    }
  }
  return true;
}

bool IsDictionaryEncoding(pq::Encoding e) {
  return e == pq::Encoding::kPlainDictionary || e == pq::Encoding::kRleDictionary;
}

}  // namespace

class ColumnCursor {
 public:
  absl::Status Start(const ParquetReader& r, int rg, int col, bool keep_codes);
  absl::Status Take(size_t n, Column* out);

 private:
  absl::Status Bad(absl::string_view what) const {
    return absl::DataLossError(absl::StrCat(where_, what));
  }
  absl::Status NextPage();
  absl::Status LoadPage(const pq::PageHeader& ph, const uint8_t* pdata, size_t csize, size_t usize);
  absl::Status DictionaryPage(const pq::PageHeader& ph, const uint8_t* pdata, size_t csize, size_t usize);
  absl::Status Decompress(const uint8_t* src, size_t n, size_t out_n, const uint8_t** result);
  absl::Status TakeLevels(size_t k, size_t* nonnull);
  absl::Status TakeValues(size_t k);
  absl::Status TakePlain(size_t k);
  absl::Status StartIndices();
  absl::Status Finish(Column* out);

  Leaf leaf_;
  Codec codec_ = Codec::kNone;
  Store store_ = Store::kStr;
  std::string where_;                 // "path: column 'x' row group N: "
  absl::Status Ensure(size_t pos, size_t n);
  const uint8_t* At(size_t pos) const { return window_.get() + (pos - win_begin_); }

  // The chunk's bytes are read a window at a time (a page or more), not the whole chunk at once.
  int fd_ = -1;
  const std::string* path_ = nullptr;
  int64_t chunk_start_ = 0;
  size_t chunk_size_ = 0, pos_ = 0;  // pos_: the next page header, from the chunk's start
  std::unique_ptr<uint8_t[]> window_;
  size_t window_cap_ = 0, win_begin_ = 0, win_end_ = 0;  // chunk bytes [win_begin_, win_end_)
  int64_t num_values_ = 0, values_started_ = 0;
  bool have_dict_ = false;
  Dense dict_;
  std::shared_ptr<const Column> dict_col_;  // codes form: the dictionary as a string column
  bool codes_ok_ = false;   // keep_codes and no non-dictionary page seen so far
  bool codes_ = false;      // this slice is in codes form
  // The current data page.
  size_t page_left_ = 0;    // rows not yet taken
  ByteBuffer page_;         // decompressed page
  bool levels_all_valid_ = true;
  RleDecoder levels_;
  pq::Encoding encoding_ = pq::Encoding::kPlain;
  const uint8_t* data_ = nullptr;  // the page's values
  size_t size_ = 0, vpos_ = 0;     // PLAIN: byte (booleans: bit) position in data_
  bool indices_started_ = false;
  RleDecoder values_;              // dictionary indices, or RLE booleans
  // Slice scratch (buffers taken from the output column and given back to it).
  std::vector<uint8_t> valid_;
  Dense dense_;
  std::vector<uint32_t> codes_buf_;
  std::vector<uint32_t> indices_;
};

absl::Status ColumnCursor::Start(const ParquetReader& r, int rg_index, int col, bool keep_codes) {
  const pq::RowGroup& rg = r.metadata_.row_groups[rg_index];
  const pq::ColumnMetaData& md = *rg.columns[col].meta_data;
  leaf_ = r.leaves_[col];
  store_ = StoreFor(leaf_.physical);
  where_ = absl::StrCat(r.path_, ": column '", r.schema_[col].name, "' row group ", rg_index, ": ");
  if (!CodecFromParquetId(static_cast<int>(md.codec), &codec_)) {
    return absl::UnimplementedError(absl::StrCat(r.path_, ": column '", r.schema_[col].name,
                                                 "': compression codec ",
                                                 ParquetCodecName(static_cast<int>(md.codec)),
                                                 " is not supported"));
  }
  codes_ok_ = keep_codes && leaf_.type == Type::kString && leaf_.conv == Leaf::Conv::kNone;
  have_dict_ = false;
  dict_ = Dense();
  dict_col_.reset();
  page_left_ = 0;
  values_started_ = 0;
  pos_ = chunk_size_ = 0;
  win_begin_ = win_end_ = 0;
  num_values_ = md.num_values;
  if (md.num_values == 0 && rg.num_rows == 0) return absl::OkStatus();
  int64_t start = md.data_page_offset;
  if (md.dictionary_page_offset && *md.dictionary_page_offset > 0 && *md.dictionary_page_offset < start) {
    start = *md.dictionary_page_offset;
  }
  const int64_t len = md.total_compressed_size;
  if (start < 4 || len < 0 || start > r.file_size_ - 8 || len > r.file_size_ - 8 - start) {
    return Bad("column chunk outside the file");
  }
  if (md.num_values != rg.num_rows) return Bad("value count differs from the row count (nested data?)");
  chunk_size_ = static_cast<size_t>(len);
  fd_ = r.fd_;
  path_ = &r.path_;
  chunk_start_ = start;
  return absl::OkStatus();
}

// Makes chunk bytes [pos, pos + n) readable at At(pos); reads at least kWindow bytes at a time.
absl::Status ColumnCursor::Ensure(size_t pos, size_t n) {
  if (pos >= win_begin_ && pos + n <= win_end_) return absl::OkStatus();
  constexpr size_t kWindow = 256 << 10;
  const size_t want = std::min(chunk_size_ - pos, std::max(n, kWindow));
  if (want > window_cap_) {
    window_.reset(new uint8_t[want]);  // no zero-fill
    window_cap_ = want;
  }
  win_begin_ = win_end_ = 0;
  DE_RETURN_IF_ERROR(PRead(fd_, chunk_start_ + static_cast<int64_t>(pos), want,
                           reinterpret_cast<char*>(window_.get()), *path_));
  win_begin_ = pos;
  win_end_ = pos + want;
  return absl::OkStatus();
}

absl::Status ColumnCursor::Decompress(const uint8_t* src, size_t n, size_t out_n, const uint8_t** result) {
  if ((n == 0 && out_n == 0) || codec_ == Codec::kNone) {
    if (n != out_n) return Bad("uncompressed page size mismatch");
    *result = src;
    return absl::OkStatus();
  }
  page_.Resize(out_n);
  DE_RETURN_IF_ERROR(DecompressBlock(codec_, reinterpret_cast<const char*>(src), n, page_.data(), out_n));
  *result = page_.udata();
  return absl::OkStatus();
}

absl::Status ColumnCursor::DictionaryPage(const pq::PageHeader& ph, const uint8_t* pdata, size_t csize,
                                          size_t usize) {
  if (!ph.dictionary_page_header) return Bad("dictionary page without its header");
  if (have_dict_) return Bad("more than one dictionary page");
  const auto& dh = *ph.dictionary_page_header;
  if (dh.encoding != pq::Encoding::kPlain && dh.encoding != pq::Encoding::kPlainDictionary) {
    return Bad("dictionary page is not PLAIN-encoded");
  }
  if (dh.num_values < 0 || static_cast<size_t>(dh.num_values) > usize * 8 + 8) return Bad("bad dictionary size");
  const uint8_t* data;
  DE_RETURN_IF_ERROR(Decompress(pdata, csize, usize, &data));
  if (auto s = DecodePlain(leaf_, data, usize, static_cast<size_t>(dh.num_values), &dict_); !s.ok()) {
    return Bad(s.message());
  }
  have_dict_ = true;
  if (codes_ok_) {
    auto d = std::make_shared<Column>();
    d->type = Type::kString;
    d->valid.assign(dict_.size(Store::kStr), 1);
    d->offsets = dict_.offsets;
    d->bytes = dict_.bytes;
    dict_col_ = std::move(d);
  }
  return absl::OkStatus();
}

// Sets up the page's levels and where its values are (v1: levels inside the compressed page;
// v2: levels uncompressed in front of the values).
absl::Status ColumnCursor::LoadPage(const pq::PageHeader& ph, const uint8_t* pdata, size_t csize,
                                    size_t usize) {
  const uint8_t* levels = nullptr;
  size_t levels_len = 0;
  int64_t num_values;
  if (ph.type == pq::PageType::kDataPage) {
    if (!ph.data_page_header) return Bad("data page without its header");
    const auto& dh = *ph.data_page_header;
    num_values = dh.num_values;
    encoding_ = dh.encoding;
    const uint8_t* data;
    DE_RETURN_IF_ERROR(Decompress(pdata, csize, usize, &data));
    size_t off = 0;
    if (leaf_.max_def > 0) {
      if (dh.definition_level_encoding != pq::Encoding::kRle) return Bad("definition levels are not RLE-encoded");
      if (usize < 4) return Bad("definition levels run past the end of the page");
      const uint32_t dl = LoadLE32(data);
      if (dl > usize - 4) return Bad("definition levels run past the end of the page");
      levels = data + 4;
      levels_len = dl;
      off = 4 + dl;
    }
    data_ = data + off;
    size_ = usize - off;
  } else {
    if (!ph.data_page_header_v2) return Bad("data page v2 without its header");
    const auto& dh = *ph.data_page_header_v2;
    if (dh.num_values < 0 || dh.definition_levels_byte_length < 0 || dh.repetition_levels_byte_length < 0) {
      return Bad("bad data page v2 header");
    }
    num_values = dh.num_values;
    encoding_ = dh.encoding;
    const size_t rl = static_cast<size_t>(dh.repetition_levels_byte_length);
    const size_t dl = static_cast<size_t>(dh.definition_levels_byte_length);
    if (rl + dl > csize || rl + dl > usize) return Bad("levels run past the end of the page");
    levels = pdata + rl;
    levels_len = dl;
    if (dh.is_compressed) {
      DE_RETURN_IF_ERROR(Decompress(pdata + rl + dl, csize - rl - dl, usize - rl - dl, &data_));
    } else {
      if (csize != usize) return Bad("uncompressed page size mismatch");
      data_ = pdata + rl + dl;
    }
    size_ = usize - rl - dl;
  }
  if (num_values < 0) return Bad("negative value count");
  if (num_values > num_values_ - values_started_) return Bad("more values than the column chunk declares");
  values_started_ += num_values;
  page_left_ = static_cast<size_t>(num_values);
  levels_all_valid_ = leaf_.max_def == 0;
  if (!levels_all_valid_) levels_.Reset(levels, levels_len, 1);
  vpos_ = 0;
  indices_started_ = false;
  if (encoding_ == pq::Encoding::kRle && page_left_ > 0) {
    if (leaf_.physical != pq::PhysicalType::kBoolean) return Bad("RLE encoding on a non-boolean column");
    if (size_ < 4) return Bad("RLE booleans missing");
    const uint32_t bl = LoadLE32(data_);
    if (bl > size_ - 4) return Bad("RLE booleans run past the end of the page");
    values_.Reset(data_ + 4, bl, 1);
  } else if (encoding_ != pq::Encoding::kPlain && !IsDictionaryEncoding(encoding_)) {
    return absl::UnimplementedError(absl::StrCat(where_, "encoding ", static_cast<int>(encoding_),
                                                 " is not listed in the column chunk's encodings"));
  }
  return absl::OkStatus();
}

// Moves to the next data page with values (reading the dictionary page on the way).
absl::Status ColumnCursor::NextPage() {
  while (page_left_ == 0) {
    if (values_started_ >= num_values_ || pos_ >= chunk_size_) {
      return Bad("column chunk ends before all values were read");
    }
    pq::PageHeader ph;
    size_t hlen;
    // A header is tens of bytes (more with statistics): parse it from what the window holds,
    // and from the rest of the chunk when that was not enough.
    DE_RETURN_IF_ERROR(Ensure(pos_, std::min<size_t>(chunk_size_ - pos_, 4096)));
    if (!pq::ParsePageHeader(At(pos_), win_end_ - pos_, &ph, &hlen).ok()) {
      DE_RETURN_IF_ERROR(Ensure(pos_, chunk_size_ - pos_));
      if (auto s = pq::ParsePageHeader(At(pos_), chunk_size_ - pos_, &ph, &hlen); !s.ok()) {
        return Bad(s.message());
      }
    }
    pos_ += hlen;
    const size_t csize = static_cast<size_t>(ph.compressed_page_size);
    const size_t usize = static_cast<size_t>(ph.uncompressed_page_size);
    if (csize > chunk_size_ - pos_) return Bad("page runs past the end of the column chunk");
    DE_RETURN_IF_ERROR(Ensure(pos_, std::max<size_t>(csize, 1)));
    const uint8_t* pdata = At(pos_);
    pos_ += csize;
    if (usize > (1ull << 31)) return Bad("page too large");
    if (ph.type == pq::PageType::kDictionaryPage) {
      DE_RETURN_IF_ERROR(DictionaryPage(ph, pdata, csize, usize));
    } else if (ph.type == pq::PageType::kDataPage || ph.type == pq::PageType::kDataPageV2) {
      DE_RETURN_IF_ERROR(LoadPage(ph, pdata, csize, usize));
    }  // index pages etc. are skipped
  }
  return absl::OkStatus();
}

// Appends k validity bytes (from the page's definition levels) to valid_.
absl::Status ColumnCursor::TakeLevels(size_t k, size_t* nonnull) {
  const size_t old = valid_.size();
  if (levels_all_valid_) {
    valid_.resize(old + k, 1);
    *nonnull = k;
    return absl::OkStatus();
  }
  valid_.resize(old + k);
  if (!levels_.Get(valid_.data() + old, k).ok()) return Bad("definition levels run past the end of the page");
  if (!CountValidBytes(valid_.data() + old, k, nonnull)) {
    return Bad("definition level out of range");
  }
  return absl::OkStatus();
}

absl::Status ColumnCursor::StartIndices() {
  if (!have_dict_) return Bad("dictionary-encoded page without a dictionary page");
  if (size_ < 1) return Bad("dictionary indices missing");
  const int bw = data_[0];
  if (bw > 32) return Bad("bad dictionary index bit width");
  values_.Reset(data_ + 1, size_ - 1, bw);
  indices_started_ = true;
  return absl::OkStatus();
}

// k PLAIN values from vpos_ on.
absl::Status ColumnCursor::TakePlain(size_t k) {
  if (leaf_.physical == pq::PhysicalType::kBoolean) {
    if (vpos_ + k > size_ * 8) return Bad("PLAIN values run past the end of the page");
    for (size_t i = 0; i < k; ++i, ++vpos_) dense_.u8.push_back((data_[vpos_ >> 3] >> (vpos_ & 7)) & 1);
    return absl::OkStatus();
  }
  if (leaf_.physical == pq::PhysicalType::kByteArray) {
    for (size_t i = 0; i < k; ++i) {
      if (size_ - vpos_ < 4) return Bad("PLAIN byte array runs past the end of the page");
      const uint32_t len = LoadLE32(data_ + vpos_);
      vpos_ += 4;
      if (len > size_ - vpos_) return Bad("PLAIN byte array runs past the end of the page");
      if (auto s = dense_.AppendString(reinterpret_cast<const char*>(data_ + vpos_), len); !s.ok()) {
        return Bad(s.message());
      }
      vpos_ += len;
    }
    return absl::OkStatus();
  }
  size_t w;
  switch (leaf_.physical) {
    case pq::PhysicalType::kInt32: case pq::PhysicalType::kFloat: w = 4; break;
    case pq::PhysicalType::kInt96: w = 12; break;
    case pq::PhysicalType::kFixedLenByteArray: w = static_cast<size_t>(leaf_.type_length); break;
    default: w = 8; break;
  }
  if (k * w > size_ - vpos_) return Bad("PLAIN values run past the end of the page");
  if (auto s = DecodePlain(leaf_, data_ + vpos_, k * w, k, &dense_); !s.ok()) return Bad(s.message());
  vpos_ += k * w;
  return absl::OkStatus();
}

// k non-null values of the current page into dense_ (or codes_buf_ in codes form).
absl::Status ColumnCursor::TakeValues(size_t k) {
  if (k == 0) return absl::OkStatus();
  if (codes_ && !IsDictionaryEncoding(encoding_)) {
    // The chunk switches to other pages (the writer's dictionary grew too big): materialise.
    if (auto s = Gather(store_, dict_, codes_buf_.data(), codes_buf_.size(), &dense_); !s.ok()) return Bad(s.message());
    codes_buf_.clear();
    codes_ = codes_ok_ = false;
  }
  if (encoding_ == pq::Encoding::kPlain) return TakePlain(k);
  if (encoding_ == pq::Encoding::kRle) {
    const size_t old = dense_.u8.size();
    dense_.u8.resize(old + k);
    if (!values_.Get(dense_.u8.data() + old, k).ok()) return Bad("RLE booleans run past the end of the page");
    return absl::OkStatus();
  }
  if (!indices_started_) DE_RETURN_IF_ERROR(StartIndices());
  if (codes_) {
    const size_t old = codes_buf_.size();
    codes_buf_.resize(old + k);
    if (!values_.Get(codes_buf_.data() + old, k).ok()) return Bad("dictionary indices run past the end of the page");
    if (auto s = CheckIndices(codes_buf_.data() + old, k, dict_.size(store_)); !s.ok()) return Bad(s.message());
    return absl::OkStatus();
  }
  constexpr size_t kBlock = 4096;
  indices_.resize(std::min(kBlock, k));
  for (size_t done = 0; done < k;) {
    const size_t b = std::min(kBlock, k - done);
    if (!values_.Get(indices_.data(), b).ok()) return Bad("dictionary indices run past the end of the page");
    if (auto s = Gather(store_, dict_, indices_.data(), b, &dense_); !s.ok()) return Bad(s.message());
    done += b;
  }
  return absl::OkStatus();
}

absl::Status ColumnCursor::Take(size_t n, Column* out) {
  ReuseBuffers(out, &valid_, &dense_, &codes_buf_);
  codes_ = codes_ok_;
  for (size_t done = 0; done < n;) {
    if (page_left_ == 0) DE_RETURN_IF_ERROR(NextPage());
    const size_t k = std::min(n - done, page_left_);
    size_t nonnull;
    DE_RETURN_IF_ERROR(TakeLevels(k, &nonnull));
    DE_RETURN_IF_ERROR(TakeValues(nonnull));
    page_left_ -= k;
    done += k;
  }
  return Finish(out);
}

absl::Status ColumnCursor::Finish(Column* out) {
  if (!codes_ || !have_dict_) {
    if (auto s = BuildOutput(leaf_, valid_, dense_, out); !s.ok()) return Bad(s.message());
    return absl::OkStatus();
  }
  const size_t rows = valid_.size();
  out->Clear();
  out->type = Type::kString;
  out->valid = std::move(valid_);
  if (codes_buf_.size() == rows) {
    out->codes = std::move(codes_buf_);
  } else {
    out->codes.resize(rows);
    const uint8_t* v = out->valid.data();
    for (size_t i = rows, j = codes_buf_.size(); i-- > 0;) out->codes[i] = v[i] ? codes_buf_[--j] : 0;
  }
  out->dictionary = dict_col_;
  return absl::OkStatus();
}

}  // namespace parquet_internal

RowGroupStream::RowGroupStream() = default;
RowGroupStream::~RowGroupStream() = default;

absl::StatusOr<bool> RowGroupStream::Start(const ParquetReader& reader, int rg,
                                           const std::vector<int>& columns,
                                           const ParquetReadOptions& options) {
  rows_ = done_ = active_ = 0;
  if (rg < 0 || rg >= reader.num_row_groups()) {
    return absl::OutOfRangeError(absl::StrCat("row group ", rg, " does not exist"));
  }
  std::vector<int> cols = columns;
  if (cols.empty()) {
    for (size_t c = 0; c < reader.schema().size(); ++c) cols.push_back(static_cast<int>(c));
  }
  const pq::RowGroup& g = reader.metadata().row_groups[rg];
  for (int c : cols) {
    if (c < 0 || static_cast<size_t>(c) >= reader.schema().size()) {
      return absl::OutOfRangeError(absl::StrCat("column ", c, " does not exist"));
    }
    if (!parquet_internal::Streamable(*g.columns[c].meta_data)) return false;
  }
  while (cursors_.size() < cols.size()) cursors_.push_back(std::make_unique<parquet_internal::ColumnCursor>());
  for (size_t k = 0; k < cols.size(); ++k) {
    DE_RETURN_IF_ERROR(cursors_[k]->Start(reader, rg, cols[k], options.keep_dictionary));
  }
  active_ = cols.size();
  rows_ = static_cast<size_t>(g.num_rows);
  return true;
}

absl::Status RowGroupStream::Next(size_t max_rows, Batch* out) {
  const size_t n = std::min(max_rows, rows_left());
  out->columns.resize(active_);
  for (size_t k = 0; k < active_; ++k) DE_RETURN_IF_ERROR(cursors_[k]->Take(n, &out->columns[k]));
  out->num_rows = n;
  done_ += n;
  return absl::OkStatus();
}

}  // namespace de::engine
