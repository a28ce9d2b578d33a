// Block compression of Parquet pages: NONE, SNAPPY (raw block), GZIP (gzip stream) and ZSTD (frame),
// over Debian's libsnappy, zlib and libzstd. Decompression checks sizes and never overruns its output.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "engine/parquet/bit_util.h"
#include "engine/parquet/parquet_writer.h"

namespace de::engine {

// The parquet.thrift CompressionCodec id of `c` (UNCOMPRESSED=0 SNAPPY=1 GZIP=2 ZSTD=6).
int ParquetCodecId(Codec c);
// Maps a parquet.thrift CompressionCodec id to Codec; false for codecs we do not support.
bool CodecFromParquetId(int id, Codec* out);

// Upper bound of the compressed size of `n` bytes.
size_t MaxCompressedSize(Codec codec, size_t n);

// Appends the compressed form of [src, src+n) to `out` (level 0 = the codec's default).
absl::Status CompressBlock(Codec codec, int level, const char* src, size_t n, ByteBuffer* out);

// Decompresses [src, src+n) into exactly `dst_size` bytes at `dst`; an error if the data is corrupt
// or does not decompress to exactly dst_size bytes.
absl::Status DecompressBlock(Codec codec, const char* src, size_t n, char* dst, size_t dst_size);

}  // namespace de::engine
