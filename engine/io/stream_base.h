// Internal to engine/io's input streams (input_stream.cc, isal_gzip_stream.cc): the raw byte
// source and the buffered base the decoders share. Not thread-safe; one stream per thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/input_stream.h"

namespace de::engine::internal {

// Raw compressed bytes: a file descriptor or an in-memory string.
class RawSource {
 public:
  virtual ~RawSource() = default;
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

// Buffers the raw source; the decoders consume from [begin_, end_).
class StreamBase : public InputStream {
 public:
  StreamBase(std::unique_ptr<RawSource> src, std::string path, std::string prefix,
             size_t buffer_bytes)
      : src_(std::move(src)), path_(std::move(path)), buf_(std::max(buffer_bytes, prefix.size())) {
    // `prefix` holds bytes already read while sniffing the magic number.
    std::memcpy(buf_.data(), prefix.data(), prefix.size());
    end_ = prefix.size();
  }
  int64_t compressed_offset() const override {
    return consumed_before_ + static_cast<int64_t>(begin_);
  }
  const std::string& path() const override { return path_; }

 protected:
  // Refills the raw buffer when it is empty. Returns false at end of file.
  absl::StatusOr<bool> Fill() {
    if (begin_ < end_) return true;
    if (eof_) return false;
    consumed_before_ += static_cast<int64_t>(end_);
    begin_ = end_ = 0;
    auto n = src_->Read(buf_.data(), buf_.size());
    if (!n.ok()) return n.status();
    end_ = *n;
    if (end_ == 0) eof_ = true;
    return end_ > 0;
  }

  // Makes at least `want` (<= the buffer size) bytes available from begin_, moving what is left
  // to the front of the buffer; fewer at the end of the file. Returns how many are available.
  absl::StatusOr<size_t> Peek(size_t want) {
    while (end_ - begin_ < want && !eof_) {
      if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        consumed_before_ += static_cast<int64_t>(begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      auto n = src_->Read(buf_.data() + end_, buf_.size() - end_);
      if (!n.ok()) return n.status();
      if (*n == 0) eof_ = true;
      end_ += *n;
    }
    return end_ - begin_;
  }

  // At a gzip member boundary with input in the buffer: true when a new member starts (gzip
  // magic); consumes zero padding after a complete member (as gzip(1) tolerates it) and returns
  // false; anything else is an error.
  absl::StatusOr<bool> GzipMemberStarts(int members_done);
  absl::Status GzipTruncated() const;
  absl::Status GzipCorrupt(const char* detail) const;

  std::unique_ptr<RawSource> src_;
  std::string path_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  int64_t consumed_before_ = 0;
  bool eof_ = false;
};

// The ISA-L gzip decoder; call only when HaveIsal().
std::unique_ptr<InputStream> NewIsalGzipStream(std::unique_ptr<RawSource> src, std::string path,
                                               std::string prefix, size_t buffer_bytes);

}  // namespace de::engine::internal
