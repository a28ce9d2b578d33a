// Block compression of Parquet pages: NONE, SNAPPY (raw block), GZIP (gzip stream, possibly several
// concatenated members), ZSTD (frame), LZ4 (Hadoop-framed blocks; raw-block and LZ4-frame data as
// other writers produced under that id are accepted too) and LZ4_RAW (one raw block), over Debian's
// libsnappy, zlib, libzstd and liblz4. Decompression checks sizes and never overruns its output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "engine/parquet/bit_util.h"
#include "engine/parquet/parquet_writer.h"

namespace de::engine {

// The parquet.thrift CompressionCodec id of `c` (UNCOMPRESSED=0 SNAPPY=1 GZIP=2 LZ4=5 ZSTD=6 LZ4_RAW=7).
int ParquetCodecId(Codec c);
// The parquet.thrift name of a CompressionCodec id ("LZO", "BROTLI", ...; "codec 42" if unknown).
std::string ParquetCodecName(int id);
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
