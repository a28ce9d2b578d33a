#include "engine/io/codec.h"

#include <lz4.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <string_view>

#include "absl/strings/str_cat.h"

namespace de::engine {

bool ParseCodec(std::string_view name, Codec* out) {
  if (name == "none" || name == "uncompressed") {
    *out = Codec::kNone;
  } else if (name == "snappy") {
    *out = Codec::kSnappy;
  } else if (name == "gzip") {
    *out = Codec::kGzip;
  } else if (name == "zstd") {
    *out = Codec::kZstd;
  } else {
    return false;
  }
  return true;
}

const char* CodecName(Codec c) {
  switch (c) {
    case Codec::kNone: return "none";
    case Codec::kSnappy: return "snappy";
    case Codec::kGzip: return "gzip";
    case Codec::kZstd: return "zstd";
    case Codec::kLz4: return "lz4";
    case Codec::kLz4Raw: return "lz4_raw";
  }
  return "?";
}

int ParquetCodecId(Codec c) {
  switch (c) {
    case Codec::kNone: return 0;
    case Codec::kSnappy: return 1;
    case Codec::kGzip: return 2;
    case Codec::kZstd: return 6;
    case Codec::kLz4: return 5;
    case Codec::kLz4Raw: return 7;
  }
  return 0;
}

std::string ParquetCodecName(int id) {
  static constexpr const char* kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                           "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  if (id >= 0 && id < 8) return kNames[id];
  return absl::StrCat("codec ", id);
}

bool CodecFromParquetId(int id, Codec* out) {
  switch (id) {
    case 0: *out = Codec::kNone; return true;
    case 1: *out = Codec::kSnappy; return true;
    case 2: *out = Codec::kGzip; return true;
    case 5: *out = Codec::kLz4; return true;
    case 6: *out = Codec::kZstd; return true;
    case 7: *out = Codec::kLz4Raw; return true;
    default: return false;
  }
}

size_t MaxCompressedSize(Codec codec, size_t n) {
  switch (codec) {
    case Codec::kNone: return n;
    case Codec::kSnappy: return snappy::MaxCompressedLength(n);
    case Codec::kGzip: return compressBound(n) + 64;  // + gzip header/trailer
    case Codec::kZstd: return ZSTD_compressBound(n);
    case Codec::kLz4Raw: return static_cast<size_t>(LZ4_compressBound(static_cast<int>(n)));
    case Codec::kLz4: return static_cast<size_t>(LZ4_compressBound(static_cast<int>(n))) + 8;
  }
  return n;
}

namespace {

// One zstd context per thread, reused across pages (creating one costs more than a small page).
struct ZstdContexts {
  ZSTD_CCtx* c = nullptr;
  ZSTD_DCtx* d = nullptr;
  ~ZstdContexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};
thread_local ZstdContexts tl_zstd;

absl::Status GzipCompress(int level, const char* src, size_t n, ByteBuffer* out) {
  z_stream zs{};
  if (deflateInit2(&zs, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("gzip: deflateInit2 failed");
  }
  size_t bound = deflateBound(&zs, n) + 64;
  char* dst = out->Grow(bound);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(src));
  zs.avail_in = static_cast<uInt>(n);
  zs.next_out = reinterpret_cast<Bytef*>(dst);
  zs.avail_out = static_cast<uInt>(bound);
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError(absl::StrCat("gzip: deflate failed (", rc, ")"));
  out->Advance(produced);
  return absl::OkStatus();
}

absl::Status GzipDecompress(const char* src, size_t n, char* dst, size_t dst_size) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return absl::InternalError("gzip: inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(src));
  zs.avail_in = static_cast<uInt>(n);
  zs.next_out = reinterpret_cast<Bytef*>(dst);
  zs.avail_out = static_cast<uInt>(dst_size);
  int rc;
  while (true) {
    rc = inflate(&zs, Z_FINISH);
    // Concatenated gzip members: start the next one if input remains.
    // (An empty member after a full output ends in Z_STREAM_END too; one with data cannot fit.)
    if (rc == Z_STREAM_END && zs.avail_in > 0) {
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    break;
  }
  // Not total_out: inflateReset zeroes it at each member.
  size_t produced = dst_size - zs.avail_out;
  bool trailing_input = zs.avail_in > 0;
  inflateEnd(&zs);
  if (rc == Z_STREAM_END && produced == dst_size && !trailing_input) return absl::OkStatus();
  if (rc == Z_STREAM_END || rc == Z_BUF_ERROR) {
    return absl::DataLossError(
        absl::StrCat("gzip: page decompresses to a different size than its header says (", dst_size, ")"));
  }
  return absl::DataLossError(absl::StrCat("gzip: corrupt data (", rc, ")"));
}

uint32_t LoadBE32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}
void StoreBE32(uint32_t v, char* p) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

absl::Status Lz4RawCompress(const char* src, size_t n, ByteBuffer* out, size_t header) {
  if (n > LZ4_MAX_INPUT_SIZE) return absl::InvalidArgumentError("lz4: page too large");
  int bound = LZ4_compressBound(static_cast<int>(n));
  char* dst = out->Grow(static_cast<size_t>(bound) + header);
  int len = LZ4_compress_default(src, dst + header, static_cast<int>(n), bound);
  if (len <= 0) return absl::InternalError("lz4: compression failed");
  if (header == 8) {  // Hadoop framing: one block
    StoreBE32(static_cast<uint32_t>(n), dst);
    StoreBE32(static_cast<uint32_t>(len), dst + 4);
  }
  out->Advance(static_cast<size_t>(len) + header);
  return absl::OkStatus();
}

bool Lz4RawBlock(const char* src, size_t n, char* dst, size_t dst_size) {
  if (n > static_cast<size_t>(INT32_MAX) || dst_size > static_cast<size_t>(INT32_MAX)) return false;
  int got = LZ4_decompress_safe(src, dst, static_cast<int>(n), static_cast<int>(dst_size));
  return got >= 0 && static_cast<size_t>(got) == dst_size;
}

// Hadoop's BlockCompressorStream framing: blocks of [BE32 raw size][BE32 compressed size][data].
bool Lz4Hadoop(const char* src, size_t n, char* dst, size_t dst_size) {
  size_t in = 0, out = 0;
  while (in < n) {
    if (n - in < 8) return false;
    uint32_t raw = LoadBE32(src + in), comp = LoadBE32(src + in + 4);
    in += 8;
    if (comp > n - in || raw > dst_size - out) return false;
    if (!Lz4RawBlock(src + in, comp, dst + out, raw)) return false;
    in += comp;
    out += raw;
  }
  return out == dst_size;
}

bool Lz4Frame(const char* src, size_t n, char* dst, size_t dst_size) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) return false;
  size_t in = 0, out = 0;
  bool ok = true;
  while (in < n) {
    size_t src_left = n - in, dst_left = dst_size - out;
    size_t rc = LZ4F_decompress(ctx, dst + out, &dst_left, src + in, &src_left, nullptr);
    if (LZ4F_isError(rc) || (src_left == 0 && dst_left == 0)) {
      ok = false;
      break;
    }
    in += src_left;
    out += dst_left;
    if (rc == 0 && in < n) LZ4F_resetDecompressionContext(ctx);  // another frame follows
  }
  LZ4F_freeDecompressionContext(ctx);
  return ok && out == dst_size;
}

// Parquet's LZ4 id was written three ways (Hadoop framing by parquet-mr, a raw block by old
// parquet-cpp, an LZ4 frame by some); try them in that order, as Arrow does.
absl::Status Lz4Decompress(const char* src, size_t n, char* dst, size_t dst_size) {
  if (Lz4Hadoop(src, n, dst, dst_size) || Lz4RawBlock(src, n, dst, dst_size)) return absl::OkStatus();
  if (n >= 4 && LoadLE32(reinterpret_cast<const uint8_t*>(src)) == 0x184D2204u && Lz4Frame(src, n, dst, dst_size)) {
    return absl::OkStatus();
  }
  return absl::DataLossError(absl::StrCat("lz4: corrupt data or not ", dst_size, " bytes as the page header says"));
}

}  // namespace

absl::Status CompressBlock(Codec codec, int level, const char* src, size_t n, ByteBuffer* out) {
  switch (codec) {
    case Codec::kNone:
      out->Append(src, n);
      return absl::OkStatus();
    case Codec::kSnappy: {
      char* dst = out->Grow(snappy::MaxCompressedLength(n));
      size_t len = 0;
      snappy::RawCompress(src, n, dst, &len);
      out->Advance(len);
      return absl::OkStatus();
    }
    case Codec::kGzip:
      return GzipCompress(level, src, n, out);
    case Codec::kZstd: {
      if (tl_zstd.c == nullptr) tl_zstd.c = ZSTD_createCCtx();
      size_t bound = ZSTD_compressBound(n);
      char* dst = out->Grow(bound);
      size_t len = ZSTD_compressCCtx(tl_zstd.c, dst, bound, src, n, level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
      if (ZSTD_isError(len)) return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(len)));
      out->Advance(len);
      return absl::OkStatus();
    }
    case Codec::kLz4:
      return Lz4RawCompress(src, n, out, 8);
    case Codec::kLz4Raw:
      return Lz4RawCompress(src, n, out, 0);
  }
  return absl::InvalidArgumentError("unknown codec");
}

absl::Status DecompressBlock(Codec codec, const char* src, size_t n, char* dst, size_t dst_size) {
  switch (codec) {
    case Codec::kNone:
      if (n != dst_size) return absl::DataLossError("uncompressed page size mismatch");
      if (n > 0) std::memcpy(dst, src, n);
      return absl::OkStatus();
    case Codec::kSnappy: {
      size_t len = 0;
      if (!snappy::GetUncompressedLength(src, n, &len)) return absl::DataLossError("snappy: corrupt data");
      if (len != dst_size) {
        return absl::DataLossError(absl::StrCat("snappy: page decompresses to ", len, " bytes, header says ", dst_size));
      }
      if (!snappy::RawUncompress(src, n, dst)) return absl::DataLossError("snappy: corrupt data");
      return absl::OkStatus();
    }
    case Codec::kGzip:
      return GzipDecompress(src, n, dst, dst_size);
    case Codec::kZstd: {
      if (tl_zstd.d == nullptr) tl_zstd.d = ZSTD_createDCtx();
      size_t len = ZSTD_decompressDCtx(tl_zstd.d, dst, dst_size, src, n);
      if (ZSTD_isError(len)) return absl::DataLossError(absl::StrCat("zstd: ", ZSTD_getErrorName(len)));
      if (len != dst_size) {
        return absl::DataLossError(absl::StrCat("zstd: page decompresses to ", len, " bytes, header says ", dst_size));
      }
      return absl::OkStatus();
    }
    case Codec::kLz4:
      return Lz4Decompress(src, n, dst, dst_size);
    case Codec::kLz4Raw:
      if (!Lz4RawBlock(src, n, dst, dst_size)) {
        return absl::DataLossError(absl::StrCat("lz4_raw: corrupt data or not ", dst_size, " bytes as the page header says"));
      }
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError("unknown codec");
}

}  // namespace de::engine
