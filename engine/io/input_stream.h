// Sequential byte readers over plain, gzip (multi-member) and zstd files; the codec is chosen by
// the file's magic bytes. One reader per thread; errors name the file and the offset.
// gzip is inflated by ISA-L (igzip, several times faster than zlib) when the build found
// libisal-dev, else by zlib; DE_GZIP_DECODER=zlib in the environment forces zlib (a fallback
// should ISA-L ever mis-handle a file).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace de::engine {

enum class InputCompression { kNone, kGzip, kZstd };
const char* InputCompressionName(InputCompression c);

class InputStream {
 public:
  virtual ~InputStream() = default;
  // Reads up to `n` decompressed bytes into `buf`. Returns 0 only at the end of the data.
  // A truncated or corrupt compressed stream is an error naming the file and compressed offset.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
  // Compressed bytes consumed from the file so far (the file size once Read returned 0).
  virtual int64_t compressed_offset() const = 0;
  virtual InputCompression compression() const = 0;
  virtual const std::string& path() const = 0;
};

enum class GzipDecoder {
  kAuto,  // ISA-L when built with it (unless DE_GZIP_DECODER=zlib), else zlib
  kIsal,  // ISA-L; zlib when the build has no ISA-L
  kZlib,
};
// True when this build links ISA-L.
bool HaveIsal();
// The decoder kAuto picks ("isal" or "zlib").
const char* DefaultGzipDecoderName();

struct InputStreamOptions {
  GzipDecoder gzip = GzipDecoder::kAuto;
  size_t raw_buffer_bytes = 1 << 20;  // compressed bytes read from the file at a time
};

// Opens `path`, sniffing gzip (1f 8b) and zstd (28 b5 2f fd) magic bytes; anything else is read
// as plain bytes.
absl::StatusOr<std::unique_ptr<InputStream>> OpenInputStream(const std::string& path,
                                                             const InputStreamOptions& options = {});

// Same, over an in-memory buffer (tests, fuzzing). `name` is used in error messages.
std::unique_ptr<InputStream> NewMemoryInputStream(std::string data, std::string name,
                                                  const InputStreamOptions& options = {});

}  // namespace de::engine
