// ParquetReader::ReadChunk: one column chunk of one row group -> a Column. Walks the chunk's pages
// (dictionary page, v1/v2 data pages), decodes definition levels straight into the validity bytes
// and the values into dense physical vectors, then builds the typed column. String chunks whose
// data pages are all dictionary-encoded can stay codes + dictionary (keep_dictionary).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/io/codec.h"
#include "engine/parquet/bit_util.h"
#include "engine/parquet/encoding.h"
#include "engine/parquet/parquet_decode.h"

namespace de::engine {

namespace pq = ::de::engine::parquet;
using parquet_internal::Dense;
using parquet_internal::Store;

namespace parquet_internal {

absl::Status PRead(int fd, int64_t offset, size_t n, char* dst, const std::string& path) {
  while (n > 0) {
    ssize_t got = ::pread(fd, dst, n, offset);
    if (got < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("read ", path, ": ", std::strerror(errno)));
    }
    if (got == 0) return absl::DataLossError(absl::StrCat(path, ": unexpected end of file"));
    dst += got;
    n -= static_cast<size_t>(got);
    offset += got;
  }
  return absl::OkStatus();
}

namespace {

// A data page's levels and where its values are.
struct PageValues {
  size_t num_values = 0;    // rows of the page (nulls included)
  size_t nonnull = 0;
  pq::Encoding encoding = pq::Encoding::kPlain;
  const uint8_t* data = nullptr;
  size_t size = 0;
};

absl::Status Err(absl::string_view what) { return absl::DataLossError(what); }

// The state of decoding one column chunk. Errors come back without location; ReadChunk adds it.
class ChunkDecoder {
 public:
  // Takes over the buffers of `reuse` (a column of an earlier row group), so that their memory is
  // used again instead of fresh pages.
  ChunkDecoder(const Leaf& leaf, Codec codec, size_t rows, bool keep_codes, Column* reuse)
      : leaf_(leaf), codec_(codec), store_(StoreFor(leaf.physical)), codes_mode_(keep_codes) {
    ReuseBuffers(reuse, &valid_, &dense_, &codes_);
    valid_.reserve(rows);
  }

  absl::Status Page(const pq::PageHeader& ph, const uint8_t* pdata, size_t csize, size_t usize,
                    int64_t values_left, size_t* rows) {
    *rows = 0;
    if (ph.type == pq::PageType::kDictionaryPage) return DictionaryPage(ph, pdata, csize, usize);
    if (ph.type != pq::PageType::kDataPage && ph.type != pq::PageType::kDataPageV2) {
      return absl::OkStatus();  // index pages etc.
    }
    PageValues pv;
    DE_RETURN_IF_ERROR(ph.type == pq::PageType::kDataPage
                           ? LevelsV1(ph, pdata, csize, usize, values_left, &pv)
                           : LevelsV2(ph, pdata, csize, usize, values_left, &pv));
    DE_RETURN_IF_ERROR(Values(pv));
    *rows = pv.num_values;
    return absl::OkStatus();
  }

  absl::Status Finish(size_t rows, Column* out);

 private:
  absl::Status Decompress(const uint8_t* src, size_t n, size_t out_n, const uint8_t** result) {
    if (n == 0 && out_n == 0) {  // an empty page (e.g. a v2 page of nulls only): nothing to inflate
      *result = src;
      return absl::OkStatus();
    }
    if (codec_ == Codec::kNone) {
      if (n != out_n) return Err("uncompressed page size mismatch");
      *result = src;
      return absl::OkStatus();
    }
    page_.Resize(out_n);
    DE_RETURN_IF_ERROR(DecompressBlock(codec_, reinterpret_cast<const char*>(src), n, page_.data(), out_n));
    *result = page_.udata();
    return absl::OkStatus();
  }

  absl::Status DictionaryPage(const pq::PageHeader& ph, const uint8_t* pdata, size_t csize,
                              size_t usize) {
    if (!ph.dictionary_page_header) return Err("dictionary page without its header");
    if (have_dict_) return Err("more than one dictionary page");
    const auto& dh = *ph.dictionary_page_header;
    if (dh.encoding != pq::Encoding::kPlain && dh.encoding != pq::Encoding::kPlainDictionary) {
      return Err("dictionary page is not PLAIN-encoded");
    }
    if (dh.num_values < 0 || static_cast<size_t>(dh.num_values) > usize * 8 + 8) return Err("bad dictionary size");
    const uint8_t* data;
    DE_RETURN_IF_ERROR(Decompress(pdata, csize, usize, &data));
    DE_RETURN_IF_ERROR(DecodePlain(leaf_, data, usize, static_cast<size_t>(dh.num_values), &dict_));
    have_dict_ = true;
    return absl::OkStatus();
  }

  // Decodes `n` definition levels into the validity bytes; sets the non-null count.
  absl::Status Levels(const uint8_t* p, size_t len, size_t n, PageValues* pv) {
    const size_t old = valid_.size();
    if (leaf_.max_def == 0) {
      valid_.resize(old + n, 1);
      pv->nonnull = n;
      return absl::OkStatus();
    }
    valid_.resize(old + n);
    RleDecoder dec(p, len, 1);
    DE_RETURN_IF_ERROR(dec.Get(valid_.data() + old, n));
    size_t nonnull = 0;
    if (!CountValidBytes(valid_.data() + old, n, &nonnull)) {
      return Err("definition level out of range");
    }
    pv->nonnull = nonnull;
    return absl::OkStatus();
  }

  absl::Status LevelsV1(const pq::PageHeader& ph, const uint8_t* pdata, size_t csize, size_t usize,
                        int64_t values_left, PageValues* pv) {
    if (!ph.data_page_header) return Err("data page without its header");
    const auto& dh = *ph.data_page_header;
    if (dh.num_values < 0) return Err("negative value count");
    pv->num_values = static_cast<size_t>(dh.num_values);
    if (dh.num_values > values_left) return Err("more values than the column chunk declares");
    pv->encoding = dh.encoding;
    const uint8_t* data;
    DE_RETURN_IF_ERROR(Decompress(pdata, csize, usize, &data));
    size_t off = 0;
    if (leaf_.max_def > 0) {
      if (dh.definition_level_encoding != pq::Encoding::kRle) return Err("definition levels are not RLE-encoded");
      if (usize < 4) return Err("definition levels run past the end of the page");
      uint32_t dl = LoadLE32(data);
      if (dl > usize - 4) return Err("definition levels run past the end of the page");
      DE_RETURN_IF_ERROR(Levels(data + 4, dl, pv->num_values, pv));
      off = 4 + dl;
    } else {
      DE_RETURN_IF_ERROR(Levels(nullptr, 0, pv->num_values, pv));
    }
    pv->data = data + off;
    pv->size = usize - off;
    return absl::OkStatus();
  }

  absl::Status LevelsV2(const pq::PageHeader& ph, const uint8_t* pdata, size_t csize, size_t usize,
                        int64_t values_left, PageValues* pv) {
    if (!ph.data_page_header_v2) return Err("data page v2 without its header");
    const auto& dh = *ph.data_page_header_v2;
    if (dh.num_values < 0 || dh.definition_levels_byte_length < 0 || dh.repetition_levels_byte_length < 0) {
      return Err("bad data page v2 header");
    }
    pv->num_values = static_cast<size_t>(dh.num_values);
    if (dh.num_values > values_left) return Err("more values than the column chunk declares");
    pv->encoding = dh.encoding;
    size_t rl = static_cast<size_t>(dh.repetition_levels_byte_length);
    size_t dl = static_cast<size_t>(dh.definition_levels_byte_length);
    if (rl + dl > csize || rl + dl > usize) return Err("levels run past the end of the page");
    DE_RETURN_IF_ERROR(Levels(pdata + rl, dl, pv->num_values, pv));
    if (dh.is_compressed) {
      DE_RETURN_IF_ERROR(Decompress(pdata + rl + dl, csize - rl - dl, usize - rl - dl, &pv->data));
    } else {
      if (csize != usize) return Err("uncompressed page size mismatch");
      pv->data = pdata + rl + dl;
    }
    pv->size = usize - rl - dl;
    return absl::OkStatus();
  }

  // The decoder of a dictionary page's indices.
  absl::Status IndexDecoder(const PageValues& pv, RleDecoder* dec) {
    if (!have_dict_) return Err("dictionary-encoded page without a dictionary page");
    if (pv.size < 1) return Err("dictionary indices missing");
    int bw = pv.data[0];
    if (bw > 32) return Err("bad dictionary index bit width");
    dec->Reset(pv.data + 1, pv.size - 1, bw);
    return absl::OkStatus();
  }

  // Dictionary indices of a page appended to codes_, each checked against the dictionary.
  absl::Status Codes(const PageValues& pv) {
    if (pv.nonnull == 0) return have_dict_ ? absl::OkStatus() : Err("dictionary-encoded page without a dictionary page");
    RleDecoder dec;
    DE_RETURN_IF_ERROR(IndexDecoder(pv, &dec));
    std::vector<uint32_t>* out = &codes_;
    const size_t old = out->size();
    out->resize(old + pv.nonnull);
    DE_RETURN_IF_ERROR(dec.Get(out->data() + old, pv.nonnull));
    return CheckIndices(out->data() + old, pv.nonnull, dict_.size(store_));
  }

  // Dictionary page -> values, a cache-sized block of indices at a time.
  absl::Status GatherPage(const PageValues& pv) {
    if (pv.nonnull == 0) return have_dict_ ? absl::OkStatus() : Err("dictionary-encoded page without a dictionary page");
    RleDecoder dec;
    DE_RETURN_IF_ERROR(IndexDecoder(pv, &dec));
    constexpr size_t kBlock = 4096;
    indices_.resize(kBlock);
    for (size_t done = 0; done < pv.nonnull;) {
      const size_t k = std::min(kBlock, pv.nonnull - done);
      DE_RETURN_IF_ERROR(dec.Get(indices_.data(), k));
      DE_RETURN_IF_ERROR(Gather(store_, dict_, indices_.data(), k, &dense_));
      done += k;
    }
    return absl::OkStatus();
  }

  absl::Status Values(const PageValues& pv);
  absl::Status DeltaIntegers(const PageValues& pv);

  const Leaf& leaf_;
  const Codec codec_;
  const Store store_;
  bool codes_mode_;           // dictionary pages so far keep their codes (strings only)
  bool have_dict_ = false;
  Dense dict_, dense_;
  std::vector<uint32_t> codes_;     // codes_mode_: the dense codes so far
  std::vector<uint32_t> indices_;   // scratch
  std::vector<uint8_t> valid_;
  size_t expected_dense_ = 0;
  ByteBuffer page_;                 // decompressed page
};

absl::Status ChunkDecoder::DeltaIntegers(const PageValues& pv) {
  if (store_ != Store::kI32 && store_ != Store::kI64) return Err("DELTA_BINARY_PACKED on a non-integer column");
  if (leaf_.physical == pq::PhysicalType::kInt96) return Err("DELTA_BINARY_PACKED on an INT96 column");
  std::vector<int64_t> tmp;
  size_t used;
  DE_RETURN_IF_ERROR(DecodeDeltaBinaryPacked(pv.data, pv.size, pv.nonnull, &tmp, &used));
  if (store_ == Store::kI32) {
    for (int64_t x : tmp) dense_.i32.push_back(static_cast<int32_t>(x));
  } else {
    dense_.i64.insert(dense_.i64.end(), tmp.begin(), tmp.end());
  }
  return absl::OkStatus();
}

absl::Status ChunkDecoder::Values(const PageValues& pv) {
  const bool dict_page = pv.encoding == pq::Encoding::kPlainDictionary ||
                         pv.encoding == pq::Encoding::kRleDictionary;
  if (codes_mode_ && !dict_page && pv.nonnull > 0) {
    // The chunk switches to other pages (the writer's dictionary grew too big): materialise.
    DE_RETURN_IF_ERROR(Gather(store_, dict_, codes_.data(), codes_.size(), &dense_));
    codes_.clear();
    codes_mode_ = false;
  }
  switch (pv.encoding) {
    case pq::Encoding::kPlain:
      DE_RETURN_IF_ERROR(DecodePlain(leaf_, pv.data, pv.size, pv.nonnull, &dense_));
      break;
    case pq::Encoding::kPlainDictionary:
    case pq::Encoding::kRleDictionary:
      if (codes_mode_) {
        DE_RETURN_IF_ERROR(Codes(pv));
      } else {
        DE_RETURN_IF_ERROR(GatherPage(pv));
      }
      break;
    case pq::Encoding::kRle: {
      if (leaf_.physical != pq::PhysicalType::kBoolean) return Err("RLE encoding on a non-boolean column");
      if (pv.size < 4) return Err("RLE booleans missing");
      uint32_t bl = LoadLE32(pv.data);
      if (bl > pv.size - 4) return Err("RLE booleans run past the end of the page");
      size_t old = dense_.u8.size();
      dense_.u8.resize(old + pv.nonnull);
      RleDecoder dec(pv.data + 4, bl, 1);
      DE_RETURN_IF_ERROR(dec.Get(dense_.u8.data() + old, pv.nonnull));
      break;
    }
    case pq::Encoding::kDeltaBinaryPacked:
      DE_RETURN_IF_ERROR(DeltaIntegers(pv));
      break;
    case pq::Encoding::kDeltaLengthByteArray:
      if (leaf_.physical != pq::PhysicalType::kByteArray) return Err("DELTA_LENGTH_BYTE_ARRAY on a non-byte-array column");
      DE_RETURN_IF_ERROR(DecodeDeltaLengthByteArray(pv.data, pv.size, pv.nonnull, &dense_));
      break;
    case pq::Encoding::kDeltaByteArray:
      if (store_ != Store::kStr) return Err("DELTA_BYTE_ARRAY on a non-byte-array column");
      DE_RETURN_IF_ERROR(DecodeDeltaByteArray(pv.data, pv.size, pv.nonnull, &dense_));
      break;
    case pq::Encoding::kByteStreamSplit:
      DE_RETURN_IF_ERROR(DecodeByteStreamSplit(leaf_, pv.data, pv.size, pv.nonnull, &dense_));
      break;
    default:
      return absl::UnimplementedError(absl::StrCat("encoding ", static_cast<int>(pv.encoding), " is not supported"));
  }
  expected_dense_ += pv.nonnull;
  const size_t got = codes_mode_ ? codes_.size() : dense_.size(store_);
  if (got != expected_dense_) return Err("page decoded to the wrong number of values");
  return absl::OkStatus();
}

absl::Status ChunkDecoder::Finish(size_t rows, Column* out) {
  if (valid_.size() != rows) return Err("row count mismatch");
  if (!codes_mode_ || !have_dict_) return BuildOutput(leaf_, valid_, dense_, out);
  // Dictionary form: the dictionary as a plain string column, the codes at the non-null rows.
  auto dict = std::make_shared<Column>();
  dict->type = Type::kString;
  const size_t dn = dict_.size(Store::kStr);
  dict->valid.assign(dn, 1);
  dict->offsets = std::move(dict_.offsets);
  dict->bytes = std::move(dict_.bytes);
  out->Clear();
  out->type = Type::kString;
  out->valid = std::move(valid_);
  if (codes_.size() == rows) {
    out->codes = std::move(codes_);
  } else {
    out->codes.assign(rows, 0);
    const uint8_t* v = out->valid.data();
    size_t j = 0;
    for (size_t i = 0; i < rows; ++i) {
      if (v[i]) out->codes[i] = codes_[j++];
    }
  }
  out->dictionary = std::move(dict);
  return absl::OkStatus();
}

}  // namespace
}  // namespace parquet_internal

absl::Status ParquetReader::ReadChunk(int rg_index, int col, const ParquetReadOptions& options,
                                      Column* out) const {
  const pq::RowGroup& rg = metadata_.row_groups[rg_index];
  const pq::ColumnMetaData& md = *rg.columns[col].meta_data;
  const Leaf& leaf = leaves_[col];
  const std::string& name = schema_[col].name;
  auto bad = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(path_, ": column '", name, "' row group ", rg_index, ": ", what));
  };
  Codec codec;
  if (!CodecFromParquetId(static_cast<int>(md.codec), &codec)) {
    return absl::UnimplementedError(absl::StrCat(path_, ": column '", name, "': compression codec ",
                                                 ParquetCodecName(static_cast<int>(md.codec)),
                                                 " is not supported (supported: UNCOMPRESSED, SNAPPY, GZIP, "
                                                 "ZSTD, LZ4, LZ4_RAW)"));
  }
  const size_t rows = static_cast<size_t>(rg.num_rows);
  const bool keep_codes = options.keep_dictionary && leaf.type == Type::kString &&
                          leaf.conv == Leaf::Conv::kNone;
  parquet_internal::ChunkDecoder dec(leaf, codec, rows, keep_codes, out);
  if (md.num_values == 0 && rg.num_rows == 0) return dec.Finish(0, out);  // writers leave offsets at 0
  int64_t start = md.data_page_offset;
  if (md.dictionary_page_offset && *md.dictionary_page_offset > 0 && *md.dictionary_page_offset < start) {
    start = *md.dictionary_page_offset;
  }
  int64_t len = md.total_compressed_size;
  if (start < 4 || len < 0 || start > file_size_ - 8 || len > file_size_ - 8 - start) return bad("column chunk outside the file");
  if (md.num_values != rg.num_rows) return bad("value count differs from the row count (nested data?)");
  std::unique_ptr<uint8_t[]> chunk(new uint8_t[static_cast<size_t>(len)]);  // no zero-fill
  const size_t chunk_size = static_cast<size_t>(len);
  DE_RETURN_IF_ERROR(parquet_internal::PRead(fd_, start, chunk_size, reinterpret_cast<char*>(chunk.get()), path_));
  const uint8_t* base = chunk.get();
  size_t pos = 0;
  int64_t values_read = 0;
  while (values_read < md.num_values) {
    if (pos >= chunk_size) return bad("column chunk ends before all values were read");
    pq::PageHeader ph;
    size_t hlen;
    if (auto s = pq::ParsePageHeader(base + pos, chunk_size - pos, &ph, &hlen); !s.ok()) return bad(s.message());
    pos += hlen;
    size_t csize = static_cast<size_t>(ph.compressed_page_size);
    size_t usize = static_cast<size_t>(ph.uncompressed_page_size);
    if (csize > chunk_size - pos) return bad("page runs past the end of the column chunk");
    const uint8_t* pdata = base + pos;
    pos += csize;
    if (usize > (1ull << 31)) return bad("page too large");
    size_t page_rows = 0;
    absl::Status s = dec.Page(ph, pdata, csize, usize, md.num_values - values_read, &page_rows);
    if (!s.ok()) {
      if (absl::IsUnimplemented(s)) {
        return absl::UnimplementedError(absl::StrCat(path_, ": column '", name, "': ", s.message()));
      }
      return bad(s.message());
    }
    values_read += static_cast<int64_t>(page_rows);
  }
  if (auto s = dec.Finish(rows, out); !s.ok()) return bad(s.message());
  return absl::OkStatus();
}

}  // namespace de::engine
