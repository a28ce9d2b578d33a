// Sequential byte readers over plain, gzip (multi-member) and zstd files; the codec is chosen by
// the file's magic bytes. One reader per thread; errors name the file and the offset.
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

// Opens `path`, sniffing gzip (1f 8b) and zstd (28 b5 2f fd) magic bytes; anything else is read
// as plain bytes.
absl::StatusOr<std::unique_ptr<InputStream>> OpenInputStream(const std::string& path);

// Same, over an in-memory buffer (tests, fuzzing). `name` is used in error messages.
std::unique_ptr<InputStream> NewMemoryInputStream(std::string data, std::string name);

}  // namespace de::engine
