#include "engine/io/codec.h"

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
  }
  return "?";
}

int ParquetCodecId(Codec c) {
  switch (c) {
    case Codec::kNone: return 0;
    case Codec::kSnappy: return 1;
    case Codec::kGzip: return 2;
    case Codec::kZstd: return 6;
  }
  return 0;
}

bool CodecFromParquetId(int id, Codec* out) {
  switch (id) {
    case 0: *out = Codec::kNone; return true;
    case 1: *out = Codec::kSnappy; return true;
    case 2: *out = Codec::kGzip; return true;
    case 6: *out = Codec::kZstd; return true;
    default: return false;
  }
}

size_t MaxCompressedSize(Codec codec, size_t n) {
  switch (codec) {
    case Codec::kNone: return n;
    case Codec::kSnappy: return snappy::MaxCompressedLength(n);
    case Codec::kGzip: return compressBound(n) + 64;  // + gzip header/trailer
    case Codec::kZstd: return ZSTD_compressBound(n);
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
    if (rc == Z_STREAM_END && zs.avail_in > 0 && zs.avail_out > 0) {
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    break;
  }
  size_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc == Z_STREAM_END && produced == dst_size) return absl::OkStatus();
  if (rc == Z_STREAM_END || rc == Z_BUF_ERROR) {
    return absl::DataLossError(
        absl::StrCat("gzip: page decompresses to a different size than its header says (", dst_size, ")"));
  }
  return absl::DataLossError(absl::StrCat("gzip: corrupt data (", rc, ")"));
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
  }
  return absl::InvalidArgumentError("unknown codec");
}

}  // namespace de::engine
